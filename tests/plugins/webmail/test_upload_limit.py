"""The compose form has its own request limit, larger than the portal's 2 MB: the message limit
(``[webmail] max_message_bytes``) plus room for the fields; over it, a 413 page that says the
limit (MAIL-17). Between the message limit and the request limit the send service answers with
the form, the text kept and a message on the attachments field."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from plugins.webmail.compose import UPLOAD_ALLOWANCE
from plugins.webmail.tables import Message
from portal.accounts.services import UnitForm, create_unit
from portal.testing import login_as, post_form

DOMAIN = "huanghe.gov.example"
MB = 1024 * 1024


@pytest.fixture
async def compose_client(make_app, make_user):
    """A portal whose mails may be 1 MB (so compose requests 5 MB), and alice logged in to it."""
    app = make_app(extra={"webmail": {"max_message_bytes": MB}})
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        client.follow_redirects = False
        unit = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))
        alice = await make_user("alice", unit_id=unit)
        await make_user("bob", unit_id=unit)
        await login_as(client, alice)
        yield client


async def attach(client, size: int, **headers):
    return await post_form(client, "/webmail/compose", {"to": f"bob@{DOMAIN}", "subject": "附件", "body": "正文保留",
                                                        "action": "send"},
                           files={"attachments": ("big.bin", b"x" * size, "application/octet-stream")}, headers=headers)


async def test_over_the_compose_limit_is_a_413_page_saying_the_limit(compose_client):
    response = await attach(compose_client, MB + UPLOAD_ALLOWANCE + 1024)
    assert response.status_code == 413
    assert "超过了此处允许的 5 MB" in response.text and 'role="alert"' in response.text
    english = await attach(compose_client, 6 * MB, **{"accept-language": "en"})
    assert english.status_code == 413 and "larger than the 5 MB allowed here" in english.text
    assert await Message.count() == 0


async def test_under_the_compose_limit_the_form_explains_and_keeps_the_text(compose_client):
    response = await attach(compose_client, 3 * MB)  # over the message limit, under the request limit
    assert response.status_code == 400
    assert 'id="attachments-error"' in response.text and "正文保留" in response.text
    assert await Message.count() == 0


async def test_other_forms_keep_the_portals_limit(compose_client):
    response = await post_form(compose_client, "/webmail/folders", {"name": "x" * (3 * MB)})
    assert response.status_code == 413
    assert "超过了此处允许的 2 MB" in response.text
