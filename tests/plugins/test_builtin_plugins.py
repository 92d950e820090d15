"""Each built-in plugin's page renders for a logged-in staff member; disclosure's is public (CORE-2)."""

from __future__ import annotations

import pytest

from portal.settings import BUILTIN_PLUGINS
from portal.testing import login_as

STAFF_ONLY = [name for name in BUILTIN_PLUGINS if name != "disclosure"]


@pytest.mark.parametrize("name", BUILTIN_PLUGINS)
async def test_the_plugin_page_renders_for_a_staff_member(client, make_user, name):
    await login_as(client, await make_user(roles=["staff"]))
    page = await client.get(f"/{name}")
    assert page.status_code == 200, page.text
    assert "<h1>" in page.text
    assert f'<a href="/{name}" aria-current="page">' in page.text  # its menu item marks the section


@pytest.mark.parametrize("name", STAFF_ONLY)
async def test_the_plugin_page_asks_an_anonymous_visitor_to_log_in(client, name):
    response = await client.get(f"/{name}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/{name}"


async def test_the_disclosure_page_is_public(client):
    page = await client.get("/disclosure")
    assert page.status_code == 200
    assert "<h1>" in page.text
