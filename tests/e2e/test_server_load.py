"""Under a flood, a logged-in user still works (MAIL-17): the real ``portal serve`` on loopback,
one client floods /login as fast as it can for a few seconds, and meanwhile a logged-in user
(from the same address) opens pages. The flood gets 429 with Retry-After once over the
anonymous per-address limit; the user, counted per account, gets every page.

Prints the figures: requests of the flood and how many were refused, and the user's page times
before and during the flood (the reference measured in the same run).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

pytestmark = pytest.mark.slow

FLOOD_SECONDS = 3
FLOOD_CONNECTIONS = 16
PAGES = ("/", "/account", "/webmail")


@pytest.fixture(scope="module")
def load_server(start_live_server):
    # A low anonymous limit, so that even a slow machine's flood passes it within the few seconds.
    return start_live_server("load", PORTAL_RATE_LIMIT_ANONYMOUS_IP="60/minute")


async def log_in(client: httpx.AsyncClient, account: dict, totp_code) -> None:
    await client.get("/login")
    token = client.cookies["portal_csrf"]
    response = await client.post("/login", data={"username": account["username"], "password": account["password"],
                                                 "_csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login/verify", response.text
    response = await client.post("/login/verify", data={"code": totp_code(account["totp_secret"]), "_csrf_token": token})
    assert response.status_code == 303, response.text


async def open_pages(client: httpx.AsyncClient, until: float) -> list[tuple[int, float]]:
    """The user's page visits until ``until``: (status, seconds) each."""
    visits = []
    while time.monotonic() < until:
        for path in PAGES:
            started = time.monotonic()
            response = await client.get(path)
            visits.append((response.status_code, time.monotonic() - started))
    return visits


async def flood(url: str, until: float) -> list[httpx.Response]:
    answers: list[httpx.Response] = []
    limits = httpx.Limits(max_connections=FLOOD_CONNECTIONS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as attacker:
        async def hammer() -> None:
            while time.monotonic() < until:
                answers.append(await attacker.get("/login"))

        await asyncio.gather(*(hammer() for _ in range(FLOOD_CONNECTIONS)))
    return answers


def summary(visits: list[tuple[int, float]]) -> str:
    times = sorted(seconds * 1000 for _, seconds in visits)
    return f"{len(times)} pages, median {statistics.median(times):.0f} ms, slowest {times[-1]:.0f} ms"


def test_a_logged_in_user_gets_pages_while_one_client_floods_the_login(load_server, demo_accounts, e2e):
    account = demo_accounts[e2e.ACCOUNT_OF["load_user"]]

    async def scenario():
        async with httpx.AsyncClient(base_url=load_server.url, timeout=30) as user:
            await log_in(user, account, e2e.totp_code)
            before = await open_pages(user, time.monotonic() + 1)
            until = time.monotonic() + FLOOD_SECONDS
            answers, during = await asyncio.gather(flood(load_server.url, until), open_pages(user, until))
            return before, answers, during

    before, answers, during = asyncio.run(scenario())
    refused = [a for a in answers if a.status_code == 429]
    print(f"\nflood: {len(answers)} requests in {FLOOD_SECONDS} s from {FLOOD_CONNECTIONS} connections, "
          f"{len(refused)} refused with 429, {sum(a.status_code == 200 for a in answers)} answered 200")
    print(f"user before the flood: {summary(before)}; during: {summary(during)} "
          f"(ratio of medians {statistics.median(t for _, t in during) / statistics.median(t for _, t in before):.1f})")

    assert refused, "the flood was never limited"
    assert {a.status_code for a in answers} <= {200, 429}
    assert all(a.headers["retry-after"].isdigit() for a in refused)
    assert during and all(status == 200 for status, _ in during), during
