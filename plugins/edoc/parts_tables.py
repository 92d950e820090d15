"""Tables of the document plugin's parts the flows call: numbering, attachments, handling
deadlines, publication, and the home page's notices and work news."""

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from plugins.edoc.tables import Document
from portal.accounts.tables import Department, Unit, User


class NumberSequence(Table, tablename="edoc_number_sequence"):
    """The last document number (发文字号) a unit gave out in a year; one row per (unit, year),
    unique by a raw index, so two print-room clerks never get the same number (DOC-11)."""

    unit = ForeignKey(Unit, on_delete=OnDelete.cascade)
    year = Integer()
    last_number = Integer(default=0)


class Attachment(Table, tablename="edoc_attachment"):
    """An attachment of a document (附件); its content is in its versions, the newest current (DOC-5)."""

    document = ForeignKey(Document, on_delete=OnDelete.cascade, index=True)
    created_by = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class AttachmentVersion(Table, tablename="edoc_attachment_version"):
    """One upload of an attachment: a replacement adds a version and never overwrites one."""

    attachment = ForeignKey(Attachment, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    size = Integer()
    # The content lies under the data folder, named by its SHA-256 (identical uploads share it).
    sha256 = Varchar(length=64)
    uploaded_by = ForeignKey(User, on_delete=OnDelete.restrict)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class Handling(Table, tablename="edoc_handling"):
    """A document waiting for a handling department (承办部门, DOC-10): filled by the flow when
    the document reaches the department, ``handled_at`` set when the department sends it back."""

    document = ForeignKey(Document, on_delete=OnDelete.cascade, index=True)
    department = ForeignKey(Department, on_delete=OnDelete.cascade, index=True)
    received_at = Timestamptz(default=TimestamptzNow())
    handled_at = Timestamptz(null=True, default=None)
    # Working days the department has; late after that.
    limit_days = Integer(default=5)
    reminded_at = Timestamptz(null=True, default=None)


class Publication(Table, tablename="edoc_publication"):
    """A document published on the portal home page (DOC-10, DOC-13): its public fields as
    published, so later edits of the document do not change what was announced."""

    document = ForeignKey(Document, on_delete=OnDelete.cascade, unique=True)
    unit = ForeignKey(Unit, null=True, on_delete=OnDelete.set_null)
    title = Varchar(length=200)
    number = Varchar(length=60, default="")
    published_by = ForeignKey(User, on_delete=OnDelete.restrict)
    published_at = Timestamptz(default=TimestamptzNow(), index=True)


class Bulletin(Table, tablename="edoc_bulletin"):
    """A home-page item (DOC-13): a notice or announcement (通知公告, ``kind`` "notice") of the
    unit, posted by the office, or a department's work news (工作动态, ``kind`` "news")."""

    kind = Varchar(length=10)
    unit = ForeignKey(Unit, on_delete=OnDelete.cascade, index=True)
    # The department whose news it is; None for notices.
    department = ForeignKey(Department, null=True, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    # Plain text, shown escaped with its line breaks; never HTML.
    body = Text()
    author = ForeignKey(User, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())
    updated_by = ForeignKey(User, on_delete=OnDelete.restrict)


PARTS_TABLES = [NumberSequence, Attachment, AttachmentVersion, Handling, Publication, Bulletin]
