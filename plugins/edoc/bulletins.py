"""The home page's notices and announcements (通知公告) and each department's work news
(工作动态) (DOC-13). The office of a unit posts its notices; the staff of a department post and
edit their department's news. Titles and bodies are plain text, shown escaped."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from plugins.edoc.parts_tables import Bulletin
from portal.accounts.tables import Department
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.jobs import now

KINDS = ("notice", "news")
MAX_TITLE = 200
MAX_BODY = 20_000
PAGE_SIZE = 20


class BulletinRefused(ValueError):
    """The form's input cannot be saved; ``str()`` says why."""


class NotAllowed(PermissionError):
    pass


@dataclass(frozen=True)
class BulletinForm:
    title: str
    body: str


def clean_text(text: str, *, multiline: bool) -> str:
    """Text without control characters (but line breaks in a body), normalized, trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    keep = "\n\t" if multiline else ""
    return "".join(c for c in text if c in keep or unicodedata.category(c)[0] != "C").strip()


def _validated(form: BulletinForm) -> tuple[str, str]:
    title, body = clean_text(form.title, multiline=False), clean_text(form.body, multiline=True)
    if not title or len(title) > MAX_TITLE:
        raise BulletinRefused(_("Enter a title of at most %(n)d characters.", n=MAX_TITLE))
    if not body or len(body) > MAX_BODY:
        raise BulletinRefused(_("Enter a text of at most %(n)d characters.", n=MAX_BODY))
    return title, body


def may_post_notices(user: CurrentUser) -> bool:
    return user.can("edoc.notices") and user.unit_id is not None


def may_post_news(user: CurrentUser) -> bool:
    return user.can("edoc.news") and user.department_id is not None


def may_edit(user: CurrentUser, bulletin: dict) -> bool:
    """Notices: the unit's office (edoc.notices). News: members of its department."""
    if bulletin["kind"] == "notice":
        return may_post_notices(user) and bulletin["unit"] == user.unit_id
    return may_post_news(user) and bulletin["department"] == user.department_id


async def post(portal, user: CurrentUser, kind: str, form: BulletinForm) -> int:
    """Post a notice of the user's unit or a news item of his department; returns its id."""
    if kind not in KINDS or not (may_post_notices(user) if kind == "notice" else may_post_news(user)):
        raise NotAllowed(kind)
    title, body = _validated(form)
    async with write_transaction():
        rows = await Bulletin.insert(Bulletin(
            kind=kind, unit=user.unit_id, department=user.department_id if kind == "news" else None,
            title=title, body=body, author=user.id, updated_by=user.id,
        )).returning(Bulletin.id)
    await portal.audit(f"edoc.{kind}_post", actor=user, target_type="edoc_bulletin", target_id=rows[0]["id"], summary=title)
    return rows[0]["id"]


async def edit(portal, user: CurrentUser, bulletin_id: int, form: BulletinForm) -> None:
    bulletin = await get(bulletin_id)
    if bulletin is None or not may_edit(user, bulletin):
        raise NotAllowed(bulletin_id)
    title, body = _validated(form)
    async with write_transaction():
        await Bulletin.update({Bulletin.title: title, Bulletin.body: body, Bulletin.updated_at: now(),
                               Bulletin.updated_by: user.id}).where(Bulletin.id == bulletin_id)
    await portal.audit(f"edoc.{bulletin['kind']}_edit", actor=user, target_type="edoc_bulletin", target_id=bulletin_id,
                       summary=title)


async def get(bulletin_id: int) -> dict | None:
    return await Bulletin.select(
        Bulletin.all_columns(), Bulletin.department.name.as_alias("department_name"),
        Bulletin.author.display_name.as_alias("author_name"),
    ).where(Bulletin.id == bulletin_id).first()


async def latest(unit_id: int | None, kind: str, *, limit: int = PAGE_SIZE, offset: int = 0) -> list[dict]:
    """A unit's notices or news, newest first (what the home page and the lists show)."""
    if unit_id is None:
        return []
    return await Bulletin.select(
        Bulletin.id, Bulletin.title, Bulletin.created_at, Bulletin.department,
        Bulletin.department.name.as_alias("department_name"),
    ).where((Bulletin.unit == unit_id) & (Bulletin.kind == kind)).order_by(
        Bulletin.created_at, ascending=False).order_by(Bulletin.id, ascending=False).limit(limit).offset(offset)


async def department_name(department_id: int | None) -> str:
    row = await Department.select(Department.name).where(Department.id == department_id).first() if department_id else None
    return row["name"] if row else ""
