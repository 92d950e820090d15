"""Publishing a finished document on the portal home page (DOC-10, DOC-13) and offering it to
the disclosure plugin through ``on_document_published``; classified documents never (DOC-12)."""

from __future__ import annotations

import inspect

from plugins.edoc.parts_tables import Publication
from portal.api import CurrentUser
from portal.db import write_transaction

# Classifications that may be published; every other value — the 涉密 levels 秘密, 机密, 绝密,
# or a value this module does not know — is refused, so a new level is never published by mistake.
PUBLISHABLE = frozenset({"public", "internal"})
PUBLIC_FIELDS = ("id", "title", "number", "unit", "doc_type", "classification")


class PublishRefused(Exception):
    """Publishing is refused; ``str()`` is the reason, for the user."""


async def publish(portal, actor: CurrentUser, document: dict) -> int:
    """Publish ``document`` (a dict with at least ``id``, ``title`` and ``classification``; also
    ``number``, ``unit``, ``doc_type``) by ``actor``; returns the publication's id. Publishing it
    again returns the same publication and tells the plugins once only."""
    _ = portal.gettext
    if not actor.can("edoc.publish"):
        raise PublishRefused(_("You may not publish documents."))
    if document.get("classification") not in PUBLISHABLE:
        raise PublishRefused(_("This document is classified (涉密) and is never published on the portal."))
    async with write_transaction():
        existing = await Publication.select(Publication.id).where(Publication.document == document["id"]).first()
        if existing:
            return existing["id"]
        rows = await Publication.insert(Publication(
            document=document["id"], unit=document.get("unit"), title=str(document["title"])[:200],
            number=str(document.get("number") or "")[:60], published_by=actor.id,
        )).returning(Publication.id, Publication.published_at)
    public = {key: document.get(key) for key in PUBLIC_FIELDS}
    public["published_at"] = rows[0]["published_at"]
    await portal.audit("edoc.publish", actor=actor, target_type="edoc_document", target_id=document["id"],
                       summary=str(document["title"])[:200])
    for result in portal.pm.hook.on_document_published(portal=portal, document=public):
        if inspect.isawaitable(result):
            await result
    return rows[0]["id"]


async def recent_publications(limit: int = 8) -> list[dict]:
    return await Publication.select().order_by(Publication.published_at, ascending=False).limit(limit)


async def published_document(publication_id: int) -> dict | None:
    """A publication as the portal's readers open it: what was announced and the document's
    body, never a classified one's (DOC-12)."""
    row = await Publication.select(
        Publication.all_columns(), Publication.unit.name.as_alias("unit_name"),
        Publication.document.doc_type.as_alias("doc_type"), Publication.document.source.as_alias("source"),
        Publication.document.body.as_alias("body"), Publication.document.classification.as_alias("classification"),
    ).where(Publication.id == publication_id).first()
    if row is None or row["classification"] not in PUBLISHABLE:
        return None
    return row
