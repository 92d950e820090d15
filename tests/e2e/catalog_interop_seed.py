"""Seed a running demo portal (its data directory in PORTAL_DATA_DIR) for test_catalog_interop.py: an
approved catalog of 黄河县农业农村局, compiled by the demo's editor fengyu and approved by the county
bureau's dengli, with one resource open to the public and one internal.

Run as a script (``python tests/e2e/catalog_interop_seed.py``) beside the server, through the
catalog's services: filing and review have their own end-to-end test (test_catalog.py). Prints the
two resources' names as JSON."""

from __future__ import annotations

import asyncio
import json

OPEN_NAME = "农机购置补贴发放信息（公开）"
INTERNAL_NAME = "农村土地承包经营权登记信息（内部）"


async def seed(portal) -> None:
    from plugins.catalog import filing, resources
    from plugins.catalog.resources import ItemForm, ResourceForm, uscc_check_character
    from plugins.catalog.tables import Classification
    from portal.accounts.services import load_current_user
    from portal.accounts.tables import User
    from portal.db import close_engine

    try:
        ids = {row["username"]: row["id"] for row in await User.select(User.id, User.username)
               .where(User.username.is_in(["fengyu", "dengli"]))}
        editor = await load_current_user(ids["fengyu"], portal.permissions)
        reviewer = await load_current_user(ids["dengli"], portal.permissions)
        classification = (await Classification.select(Classification.id).where(Classification.code == "307016001").first())["id"]
        first17 = "11371200MB0123456"
        common = dict(classification_id=str(classification), provider="黄河县农业农村局",
                      provider_code=first17 + uscc_check_character(first17), format="database", share_method="platform_api",
                      update_cycle="monthly", published_on="2026-03-01", items=[ItemForm("补贴对象", "string", "50", "")])
        await resources.create(editor, editor.department_id, ResourceForm(
            name=OPEN_NAME, abstract="农机购置补贴的发放记录", share_type="unconditional", open_type="open", secrecy="public", **common),
            portal)
        await resources.create(editor, editor.department_id, ResourceForm(
            name=INTERNAL_NAME, abstract="承包经营权登记", share_type="conditional", share_conditions="仅用于补贴核验",
            open_type="closed", secrecy="internal", **common), portal)
        filing_id = await filing.submit(editor, editor.department_id, "", portal)
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
    print(json.dumps({"open": OPEN_NAME, "internal": INTERNAL_NAME}, ensure_ascii=False))


if __name__ == "__main__":
    main()
