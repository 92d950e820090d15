"""Official documents published through another plugin (the edoc plugin's ``publishing.publish``,
DOC-13) enter the catalog through the ``on_document_published`` hook, so this plugin works with
or without that one and neither imports the other (PUB-1).

The hook carries the public fields only (id, title, number, unit, doc_type, classification,
published_at), never the body. A document marked public is listed at once in the unit's 政策文件
category (the standard category ``policies``, whatever it is called now); one marked internal
becomes a draft that the unit's publisher reviews, since 内部 is not for the public unless a
publisher decides so; a classified (涉密) one is never taken in at all. The same document
offered twice is listed once.
"""

from __future__ import annotations

from datetime import datetime

from plugins.disclosure.categories import DOCUMENTS_KEY, category_by_key, ensure_standard_categories
from plugins.disclosure.items import PUBLIC
from plugins.disclosure.tables import Item
from plugins.disclosure.text import clean_line
from portal.accounts.tables import Unit
from portal.db import write_transaction
from portal.jobs import now as utc_now
from portal.localtime import local

SOURCE = "edoc"
# Classifications taken in, and the status the item starts in.
STATUS_OF = {PUBLIC: "published", "internal": "draft"}


async def receive_document(portal, document: dict) -> int | None:
    """List the published ``document``; returns the item's id, or None when it is not taken in."""
    status = STATUS_OF.get(document.get("classification"))
    unit_id, source_id = document.get("unit"), document.get("id")
    if status is None or not isinstance(unit_id, int) or not isinstance(source_id, int):
        return None
    title = clean_line(str(document.get("title") or ""))[:200]
    if not title:
        return None
    unit = await Unit.select(Unit.name).where(Unit.id == unit_id).first()
    if unit is None:
        return None
    await ensure_standard_categories(unit_id)
    category = await category_by_key(unit_id, DOCUMENTS_KEY)
    published_at = document.get("published_at")
    moment = published_at if isinstance(published_at, datetime) else utc_now()
    async with write_transaction():
        existing = await Item.select(Item.id).where((Item.source == SOURCE) & (Item.source_id == source_id)).first()
        if existing:
            return existing["id"]
        rows = await Item.insert(Item(
            unit=unit_id, category=category["id"], title=title, document_date=local(moment).date(),
            issuer=unit["name"][:100], document_number=clean_line(str(document.get("number") or ""))[:60],
            classification=document["classification"], status=status,
            publish_at=moment if status == "published" else None, source=SOURCE, source_id=source_id,
        )).returning(Item.id)
    await portal.audit("disclosure.document_received", target_type="disclosure_item", target_id=rows[0]["id"],
                       summary=f"{SOURCE} {source_id}: {title} ({status})")
    return rows[0]["id"]
