"""Tables of the mail system: mailboxes, folders, messages and the delivery of what was sent.

The raw RFC 5322 message is a content-addressed blob (``Blob``, by ``blob_sha``), stored once
and shared by every internal recipient; rows hold what lists and searches need.
"""

from piccolo.columns import BigInt, Boolean, Bytea, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import User

FOLDER_KINDS = ("inbox", "drafts", "sent", "trash", "spam", "custom")


class ServiceLevel(Table, tablename="webmail_service_level"):
    """A named service level (MAIL-12): quota, message limits and the features it allows.

    ``features`` is a space-separated list of names from ``levels.FEATURES``. Mailboxes with no
    level of their own get the default level (``is_default``).
    """

    name = Varchar(length=100, unique=True)
    quota_bytes = BigInt(default=2 * 1024 * 1024 * 1024)
    max_message_bytes = BigInt(default=25 * 1024 * 1024)
    max_recipients = Integer(default=100)
    features = Text(default="")
    is_default = Boolean(default=False)


class Mailbox(Table, tablename="webmail_mailbox"):
    """One mailbox per account: its address, service level and quota.

    ``quota_bytes`` is the quota of the mailbox's level (or the default level), kept in step
    by ``levels`` whenever a level or an assignment changes, so reading pages need no join.
    """

    owner = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)
    address = Varchar(length=254, unique=True, index=True)
    quota_bytes = BigInt(default=2 * 1024 * 1024 * 1024)
    used_bytes = BigInt(default=0)
    level = ForeignKey(ServiceLevel, null=True, on_delete=OnDelete.set_null, index=True)


class Folder(Table, tablename="webmail_folder"):
    """A folder of a mailbox, with its message and unread counts.

    Database triggers on ``webmail_message`` keep ``total`` and ``unread`` exact on every insert,
    move, read/unread change and delete (migration ``…t11_12_26_000000``), so the folder list,
    the paging and the menu badge read them instead of counting 100,000 rows per page.
    """

    mailbox = ForeignKey(Mailbox, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    kind = Varchar(length=10, default="custom")
    position = Integer(default=100)
    total = Integer(default=0)
    unread = Integer(default=0)


class Message(Table, tablename="webmail_message"):
    """A message in one mailbox's folder."""

    mailbox = ForeignKey(Mailbox, on_delete=OnDelete.cascade, index=True)
    folder = ForeignKey(Folder, on_delete=OnDelete.cascade, index=True)
    blob_sha = Varchar(length=64)
    size = Integer(default=0)
    message_id = Varchar(length=300, default="")
    in_reply_to = Varchar(length=300, default="")
    subject = Varchar(length=500, default="")
    sender_name = Varchar(length=200, default="")
    sender_address = Varchar(length=254, default="", index=True)
    to_addresses = Text(default="")
    cc_addresses = Text(default="")
    sent_at = Timestamptz(default=TimestamptzNow())
    received_at = Timestamptz(default=TimestamptzNow(), index=True)
    seen = Boolean(default=False)
    flagged = Boolean(default=False)
    has_attachments = Boolean(default=False)
    snippet = Varchar(length=200, default="")
    body_text = Text(default="")
    # The delivery record when this message is a recipient's copy of one sent inside the portal.
    delivery_id = Integer(null=True, default=None)


class Outgoing(Table, tablename="webmail_outgoing"):
    """A message a user sent: its Sent copy and whether each recipient got a copy of his own."""

    mailbox = ForeignKey(Mailbox, on_delete=OnDelete.cascade, index=True)
    sent_copy = ForeignKey(Message, null=True, on_delete=OnDelete.set_null)
    separate_display = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class Delivery(Table, tablename="webmail_delivery"):
    """One recipient of an outgoing message (MAIL-5): queued, delivered, opened, deferred,
    failed, bounced."""

    outgoing = ForeignKey(Outgoing, on_delete=OnDelete.cascade, index=True)
    recipient = Varchar(length=254)
    internal = Boolean(default=False)
    status = Varchar(length=10, default="queued")
    detail = Varchar(length=500, default="")
    next_try_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    blob_sha = Varchar(length=64, default="")


class Blob(Table, tablename="webmail_blob"):
    """A raw RFC 5322 message by the SHA-256 of its bytes, written in the transaction of the rows
    that point at it (one flush for a message and its rows), never changed."""

    sha = Varchar(length=64, primary_key=True)
    data = Bytea()


class TrustedImageSender(Table, tablename="webmail_trusted_image_sender"):
    """Senders whose remote images a user chose to always show (MAIL-18)."""

    mailbox = ForeignKey(Mailbox, on_delete=OnDelete.cascade, index=True)
    sender_address = Varchar(length=254)
