"""Catalog updates (CAT-4) and data sharing (CAT-5) in Chromium.

Sharing: an editor of the city's market bureau finds a conditionally shared resource of the
county's agriculture bureau, requests it with a purpose and the conditions accepted; the
agriculture bureau's editor sees the request on his home page and approves it with a remark; the
requester sees the grant, and the county's big-data bureau finds it among the grants.

Catalog updates: the county's big-data bureau records a change of duties concerning the
agriculture bureau; its editor sees the countdown on the updates page, on his department's
catalog page and on his home page, and declares — without JavaScript — that no change is
needed; the bureau sees that, and no overdue department.

Runs on its own server (``sharing_server``), whose demo database gets the agriculture bureau's
approved catalog from a script using the catalog's services: pengbo (editor, 济南市市场监督管理局),
fengyu (editor, 黄河县农业农村局) and dengli (reviewer, 黄河县大数据局) log in there once each.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pyotp
import pytest

CONDITIONS = "仅用于农业补贴发放对象核验，不得向第三方提供"
PURPOSE = "核验市场主体登记中的农业经营主体信息"

# Run in a subprocess against the server's database, inside the application's lifespan (the
# services notify and audit through it): the agriculture bureau's catalog with one conditionally
# shared resource, filed by fengyu and approved by dengli a month ago.
SEED = f"""
import asyncio
from datetime import datetime, timedelta, timezone
from portal.app import create_app
from portal.settings import Settings
from portal.accounts.services import load_current_user
from portal.accounts.tables import User
from plugins.catalog import filing, resources
from plugins.catalog.resources import ItemForm, ResourceForm, uscc_check_character
from plugins.catalog.tables import Classification, Filing

async def main():
    app = create_app(Settings.from_env())
    async with app.lifespan():
        portal = app.state.portal
        editor_row = await User.select(User.id, User.department).where(User.username == "fengyu").first()
        reviewer_row = await User.select(User.id).where(User.username == "dengli").first()
        editor = await load_current_user(editor_row["id"], portal.permissions)
        reviewer = await load_current_user(reviewer_row["id"], portal.permissions)
        node = await Classification.select(Classification.id).where(Classification.code == "307016001").first()
        code = "11371200MB0123456"
        form = ResourceForm(name="农村土地承包经营权登记信息", classification_id=str(node["id"]), provider="黄河县农业农村局",
                            provider_code=code + uscc_check_character(code), abstract="全县农村土地承包经营权的登记信息。",
                            format="database", share_type="conditional", share_conditions="{CONDITIONS}",
                            share_method="platform_api", update_cycle="monthly", secrecy="internal",
                            items=[ItemForm("承包方名称", "string", "100", ""), ItemForm("地块编码", "string", "19", "")])
        await resources.create(editor, editor_row["department"], form, portal)
        filing_id = await filing.submit(editor, editor_row["department"], "", portal)
        await filing.decide(reviewer, filing_id, "approve", "", portal)
        # Filed a month ago: a change recorded today asks for a newer version.
        month_ago = datetime.now(timezone.utc) - timedelta(days=30)
        await Filing.update({{Filing.submitted_at: month_ago, Filing.reviewed_at: month_ago}}).where(Filing.id == filing_id)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def sharing_server(start_live_server):
    server = start_live_server("catalog-duties")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(PORTAL_DATA_DIR=str(server.data_dir), PORTAL_SECRET_KEY="e2e-secret-key-not-for-production",
               PORTAL_WORKER="off", PORTAL_SERVICES="false")
    subprocess.run([sys.executable, "-c", SEED], check=True, env=env, cwd=server.data_dir.parent, stdin=subprocess.DEVNULL,
                   capture_output=True, timeout=120)
    return server


def _submit(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def _log_in(browser, server, account, **options):
    context = browser.new_context(base_url=server.url, locale="en-US", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", account["username"])
    page.fill("#password", account["password"])
    _submit(page, page.locator("main form button[type=submit]"))
    page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
    _submit(page, page.locator("main form button[type=submit]"))
    assert "/login" not in page.url, page.url
    return context, page


@pytest.fixture(scope="module")
def pages(browser, sharing_server, demo_accounts):
    """The three logged-in pages, kept for the module (a TOTP code is good once per 30 s); the
    agriculture bureau's editor browses without JavaScript."""
    contexts, pages = [], {}
    for username, options in (("pengbo", {}), ("fengyu", {"java_script_enabled": False}), ("dengli", {})):
        context, pages[username] = _log_in(browser, sharing_server, demo_accounts[username], **options)
        contexts.append(context)
    yield pages
    for context in contexts:
        context.close()


def test_a_conditional_resource_is_requested_approved_by_the_owner_and_granted(pages, e2e):
    assert {e2e.ACCOUNT_OF["catalog_duties_requester"], e2e.ACCOUNT_OF["catalog_duties_owner"],
            e2e.ACCOUNT_OF["catalog_duties_bureau"]} == {"pengbo", "fengyu", "dengli"}
    requester = pages["pengbo"]
    requester.goto("/")
    _submit(requester, requester.get_by_role("link", name="Data sharing", exact=True))
    requester.fill("#q", "土地承包")
    _submit(requester, requester.get_by_role("button", name="Search"))
    row = requester.locator("table.found tr", has_text="农村土地承包经营权登记信息")
    assert "Conditional sharing" in row.inner_text()
    resource_path = row.get_by_role("link", name="Request").get_attribute("href")
    _submit(requester, row.get_by_role("link", name="Request"))
    assert CONDITIONS in requester.inner_text("dl.facts")
    # The conditions must be accepted: the browser's own check keeps the form from going.
    requester.fill("#purpose", PURPOSE)
    requester.get_by_role("button", name="Send the request").click()
    assert requester.locator("input[name=accept]:invalid").count() == 1
    requester.check("input[name=accept]")
    _submit(requester, requester.get_by_role("button", name="Send the request"))
    assert "Awaiting the owner's decision" in requester.inner_text(".request-state")
    request_path = re.sub(r"^https?://[^/]+", "", requester.url)

    owner = pages["fengyu"]
    owner.goto("/")
    card = owner.locator("section.widget", has_text="Sharing requests")
    assert "1 request for your department's data awaits a decision." in card.inner_text()
    _submit(owner, card.get_by_role("link"))
    _submit(owner, owner.locator("table.incoming").get_by_role("link", name=re.compile("农村土地承包经营权登记信息")))
    assert owner.url.endswith(request_path)
    assert PURPOSE in owner.inner_text("dl.facts") and "市场监督管理局" in owner.inner_text("dl.facts")
    # A refusal without its reason is refused, and says so.
    _submit(owner, owner.get_by_role("button", name="Refuse"))
    assert "A refusal needs its reason." in owner.inner_text("#form-error")
    owner.fill("#answer", "接口地址和账号已通过共享平台发送")
    _submit(owner, owner.get_by_role("button", name="Approve"))
    assert "Granted" in owner.inner_text(".request-state")

    requester.reload()
    assert "Granted" in requester.inner_text(".request-state")
    assert "接口地址和账号已通过共享平台发送" in requester.inner_text("dl.facts")
    _submit(requester, requester.get_by_role("link", name="Data sharing").last)
    assert "Granted" in requester.locator("table.mine").inner_text()

    bureau = pages["dengli"]
    bureau.goto("/catalog/sharing/grants")
    grants = bureau.locator("table.grants").inner_text()
    assert "农村土地承包经营权登记信息" in grants and "市场监督管理局" in grants and PURPOSE[:10] in grants
    # The resource's page in the total catalogs offers the request too.
    bureau.goto(resource_path.replace("/catalog/sharing/resources/", "/catalog/entries/"))
    assert bureau.get_by_role("link", name="Request this data").get_attribute("href") == resource_path


def test_the_bureau_records_a_change_and_the_editor_sees_the_countdown_and_declares(pages):
    bureau = pages["dengli"]
    bureau.goto("/catalog/changes")
    _submit(bureau, bureau.get_by_role("link", name="Record a change"))
    bureau.check("input[name=kind][value=duties]")
    bureau.fill("#title", "农业农村局增加宅基地管理职责")
    bureau.fill("#description", "县委编委决定由农业农村局承担农村宅基地管理职责。")
    bureau.fill("#legal_basis", "黄编〔2026〕7号")
    bureau.locator("label", has_text="农业农村局").locator("input").check()
    _submit(bureau, bureau.get_by_role("button", name="Record the change"))
    assert "农业农村局增加宅基地管理职责" in bureau.inner_text("h1")
    assert "15 working days left" in bureau.inner_text("table.countdown")

    editor = pages["fengyu"]
    editor.goto("/")
    assert "农业农村局增加宅基地管理职责" in editor.locator("section.widget", has_text="Catalog updates due").inner_text()
    editor.goto("/catalog/mine")
    assert "15 working days left" in editor.inner_text(".catalog-countdown")
    _submit(editor, editor.get_by_role("link", name="Catalog updates").first)
    row = editor.locator("table.countdown tr", has_text="农业农村局增加宅基地管理职责")
    row.locator("summary").click()
    row.get_by_label("Why the catalog needs no change").fill("宅基地数据已在自然资源部门目录中，本局目录无需调整。")
    _submit(editor, row.get_by_role("button", name="Declare: no change needed"))
    assert "No change needed (declared on" in editor.inner_text("table.countdown")

    bureau.reload()
    assert "本局目录无需调整" in bureau.inner_text("table.countdown")
    bureau.goto("/catalog/changes")
    _submit(bureau, bureau.get_by_role("link", name="Overdue departments").first)
    assert "No department is overdue." in bureau.inner_text("main")
