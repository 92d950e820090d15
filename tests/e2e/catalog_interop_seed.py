"""Seed a running demo portal (its data directory in PORTAL_DATA_DIR) for test_catalog_interop.py:
a catalog editor of 黄河县农业农村局 and a reviewer of 黄河县大数据局 (with the TOTP secrets below), and
an approved catalog of the department with one resource open to the public and one internal.

Run as a script (``python tests/e2e/catalog_interop_seed.py``) beside the server: the demo seeds no
catalog roles, and the catalog's editing and filing pages are not part of these tests. Prints the
accounts as JSON."""

from __future__ import annotations

import asyncio
import json

EDITOR = {"username": "catalog_editor_e2e", "password": "demo-password-2026", "totp_secret": "MFZWIZLSMFZWIZLSMFZWIZLSMFZWIZLS"}
REVIEWER = {"username": "catalog_reviewer_e2e", "password": "demo-password-2026", "totp_secret": "ORSXG5DFOJSXI2LOORSXG5DFOJSXI2LO"}
OPEN_NAME = "农机购置补贴发放信息（公开）"
INTERNAL_NAME = "农村土地承包经营权登记信息（内部）"


async def seed(portal) -> None:
    from plugins.catalog import filing, resources
    from plugins.catalog.resources import ItemForm, ResourceForm, uscc_check_character
    from plugins.catalog.tables import Classification
    from portal.accounts.services import UserForm, create_user, load_current_user
    from portal.accounts.tables import Department, Unit, User
    from portal.db import close_engine

    try:
        county = (await Unit.select(Unit.id).where(Unit.code == "huanghe").first())["id"]
        departments = {row["name"]: row["id"] for row in await Department.select(Department.id, Department.name)
                       .where(Department.unit == county)}
        ids = {}
        for account, roles, department in ((EDITOR, ["catalog_editor", "staff"], "农业农村局"),
                                           (REVIEWER, ["catalog_reviewer", "staff"], "大数据局")):
            ids[account["username"]] = await create_user(None, UserForm(
                account["username"], account["username"], f"{account['username']}@huanghe.gov.example", county,
                departments[department], account["password"]), roles=roles)
            await User.update({User.totp_secret: account["totp_secret"]}).where(User.id == ids[account["username"]])
        editor = await load_current_user(ids[EDITOR["username"]], portal.permissions)
        reviewer = await load_current_user(ids[REVIEWER["username"]], portal.permissions)
        classification = (await Classification.select(Classification.id).where(Classification.code == "307016001").first())["id"]
        first17 = "11371200MB0123456"
        common = dict(classification_id=str(classification), provider="黄河县农业农村局", provider_code=first17 + uscc_check_character(first17),
                      format="database", share_method="platform_api", update_cycle="monthly", published_on="2026-03-01",
                      items=[ItemForm("补贴对象", "string", "50", "")])
        await resources.create(editor, departments["农业农村局"], ResourceForm(
            name=OPEN_NAME, abstract="农机购置补贴的发放记录", share_type="unconditional", open_type="open", secrecy="public", **common), portal)
        await resources.create(editor, departments["农业农村局"], ResourceForm(
            name=INTERNAL_NAME, abstract="承包经营权登记", share_type="conditional", share_conditions="仅用于补贴核验",
            open_type="closed", secrecy="internal", **common), portal)
        filing_id = await filing.submit(editor, departments["农业农村局"], "", portal)
        await filing.decide(reviewer, filing_id, "approve", "", portal)
    finally:
        await close_engine()


def main() -> None:
    from portal.app import create_app
    from portal.settings import Settings

    portal = create_app(Settings.from_env()).state.portal
    # The reviewers are told of a filing through portal.notify; no page of theirs is open here.
    portal.notify = lambda *args, **kwargs: None
    asyncio.run(seed(portal))
    print(json.dumps({"editor": EDITOR, "reviewer": REVIEWER, "open": OPEN_NAME, "internal": INTERNAL_NAME}, ensure_ascii=False))


if __name__ == "__main__":
    main()
