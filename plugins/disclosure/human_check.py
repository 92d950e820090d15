"""A human check for public forms that needs no third-party service (PUB-3).

The form carries a small sum written in words (七加五等于几？ / What is seven plus five?) and a
token ``issued.nonce.mac``: the MAC (HMAC-SHA256 with the portal's secret key) covers the time
of issue, the nonce and the browser's CSRF token, so a token is good for one browser and
``TTL_SECONDS``. The question is derived from the nonce with the secret key, so nothing is stored
per page view. Each token is answered once: its nonce goes into ``disclosure_used_check`` at
the first answer, right or wrong, so a wrong answer cannot be retried with the same question.

Text, not an image: a screen reader reads it out (PUB-4). It stops naive robots, not a person
paid to type; the per-address rate limit on filing is what bounds the rest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from plugins.disclosure.request_tables import UsedCheck
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.jobs import now

# Long enough for someone typing a description slowly.
TTL_SECONDS = 2 * 3600
MAX_TOKEN = 100
MAX_ANSWER = 10
CHINESE_NUMERALS = "零一二三四五六七八九十"
ENGLISH_NUMERALS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


class CheckFailed(ValueError):
    """The check was not passed; ``str()`` says why, for the form."""


@dataclass(frozen=True)
class Sum:
    left: int
    right: int
    plus: bool

    @property
    def answer(self) -> int:
        return self.left + self.right if self.plus else self.left - self.right

    def question(self, locale: str) -> str:
        if locale == "zh_CN":
            sign = "加" if self.plus else "减"
            return f"{CHINESE_NUMERALS[self.left]}{sign}{CHINESE_NUMERALS[self.right]}等于几？"
        sign = "plus" if self.plus else "minus"
        return f"What is {ENGLISH_NUMERALS[self.left]} {sign} {ENGLISH_NUMERALS[self.right]}?"


@dataclass(frozen=True)
class Challenge:
    token: str
    question: str


def _digest(secret_key: str, message: str) -> bytes:
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()


def _mac(secret_key: str, issued: int, nonce: str, binding: str) -> str:
    digest = _digest(secret_key, f"disclosure-check|{issued}|{nonce}|{binding}")
    return base64.urlsafe_b64encode(digest[:18]).decode()


def _sum(secret_key: str, nonce: str) -> Sum:
    seed = _digest(secret_key, f"disclosure-question|{nonce}")
    left, right, plus = 1 + seed[0] % 10, 1 + seed[1] % 9, seed[2] % 2 == 0
    if not plus and right > left:
        left, right = right, left
    return Sum(left, right, plus)


def issue(secret_key: str, binding: str, locale: str, issued: int | None = None) -> Challenge:
    issued = int(time.time()) if issued is None else issued
    nonce = secrets.token_urlsafe(12)
    token = f"{issued}.{nonce}.{_mac(secret_key, issued, nonce, binding)}"
    return Challenge(token, _sum(secret_key, nonce).question(locale))


def _nonce_of(secret_key: str, binding: str, token: str) -> str:
    """The token's nonce, once its MAC, binding and age are right."""
    issued, _dot, rest = token[:MAX_TOKEN].partition(".")
    nonce, _dot, mac = rest.partition(".")
    if not (issued.isascii() and issued.isdigit() and len(issued) <= 12) or not nonce \
            or not hmac.compare_digest(mac.encode(), _mac(secret_key, int(issued), nonce, binding).encode()):
        raise CheckFailed(_("The check question did not come from this page. Answer the new question below."))
    if not -60 <= time.time() - int(issued) <= TTL_SECONDS:
        raise CheckFailed(_("The check question has expired. Answer the new question below."))
    return nonce


def _number(answer: str) -> int | None:
    text = unicodedata.normalize("NFKC", answer).strip()[:MAX_ANSWER]
    if text.isascii() and text.lstrip("-").isdigit():
        return int(text)
    if len(text) == 1 and text in CHINESE_NUMERALS:
        return CHINESE_NUMERALS.index(text)
    if text.lower() in ENGLISH_NUMERALS:
        return ENGLISH_NUMERALS.index(text.lower())
    return None


async def verify(secret_key: str, binding: str, token: str, answer: str) -> None:
    """Pass, or raise CheckFailed. The token is used up either way (in a transaction of its
    own, so a wrong answer cannot be tried again)."""
    nonce = _nonce_of(secret_key, binding, token)
    async with write_transaction():
        await UsedCheck.delete().where(UsedCheck.used_at < now() - timedelta(seconds=TTL_SECONDS + 60))
        inserted = await UsedCheck.insert(UsedCheck(nonce=nonce)).on_conflict(
            target=UsedCheck.nonce, action="DO NOTHING").returning(UsedCheck.id)
    if not inserted:
        raise CheckFailed(_("This check question was already answered. Answer the new question below."))
    if _number(answer) != _sum(secret_key, nonce).answer:
        raise CheckFailed(_("The answer to the check question was not right. Answer the new question below."))


def expected_answer(secret_key: str, token: str) -> int:
    """The answer to a token's question (for tests and tools that hold the secret key)."""
    return _sum(secret_key, token.split(".")[1]).answer
