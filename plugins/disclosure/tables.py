"""The disclosure catalog (政府信息公开目录, PUB-1): each unit's categories and the items in them.

An item is visible to the public when its status is ``published`` and its ``publish_at`` has
come: a scheduled item is a published one whose moment lies ahead, so nothing has to run at
that moment for it to appear (and a late or stopped worker can never keep it hidden or show
it early). ``withdrawn`` items are gone from every public page, search and feed.
"""

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Unit


class Category(Table, tablename="disclosure_category"):
    """A category of a unit's disclosure catalog, in the unit's own order (``position``)."""

    unit = ForeignKey(Unit, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    position = Integer(default=0)
    # The standard category this one started as (``services.STANDARD_CATEGORIES``: ``policies``,
    # ``notices``, ...), kept through renames so other code finds it; "" for a unit's own.
    key = Varchar(length=30, default="")
    # Items with status "published" in it, scheduled ones ahead included: kept by triggers on
    # disclosure_item (migration 2026-11-26T15:22:07), so the catalog counts without reading items.
    published_count = Integer(default=0)


class Item(Table, tablename="disclosure_item"):
    """A piece of government information in a unit's catalog (主动公开的政府信息)."""

    unit = ForeignKey(Unit, on_delete=OnDelete.restrict, index=True)
    category = ForeignKey(Category, on_delete=OnDelete.restrict, index=True)
    title = Varchar(length=200)
    # 成文日期: the date the document bears (not the moment it was published).
    document_date = Date(null=True, default=None)
    # 发布机构 and 文号.
    issuer = Varchar(length=100, default="")
    document_number = Varchar(length=60, default="")
    # As written by staff (plain text or the few tags of portal.richtext); cleaned when shown.
    body = Text(default="")
    # The body's text without tags, what search reads.
    body_text = Text(default="")
    # public, internal, or a 涉密 level (secret, confidential, top_secret): only public is published.
    classification = Varchar(length=12, default="public")
    # draft, published, withdrawn ("scheduled" is published with publish_at ahead).
    status = Varchar(length=12, default="draft", index=True)
    publish_at = Timestamptz(null=True, default=None, index=True)
    withdrawn_at = Timestamptz(null=True, default=None)
    withdrawn_reason = Varchar(length=500, default="")
    # Where the item came from: "" written here, "edoc" an official document offered through
    # the on_document_published hook (``source_id`` is its id there).
    source = Varchar(length=20, default="")
    source_id = Integer(null=True, default=None)
    created_by = Integer(null=True, default=None)  # the user's id; None for the portal itself
    updated_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Attachment(Table, tablename="disclosure_attachment"):
    """A file of an item, stored once by SHA-256 under ``<data folder>/disclosure/attachments``."""

    item = ForeignKey(Item, on_delete=OnDelete.cascade, index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=100, default="application/octet-stream")
    size = Integer(default=0)
    sha256 = Varchar(length=64)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [Category, Item, Attachment]
