"""Tables of requests for disclosure (依申请公开, PUB-3).

A request is one row: what the applicant filed (the fields article 29 of the Regulations on
Open Government Information asks for), its deadline in working days and what the unit did with
it. Staff actions are also written to the portal's audit log.
"""

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Unit


class InfoRequest(Table, tablename="disclosure_request"):
    """申请: a request for government information addressed to one unit."""

    # 受理编号 shown to the applicant, e.g. 20261008-7KQ3MX; the code he got with it is kept
    # only as a hash (SHA-256 of number and code): the number alone opens nothing.
    number = Varchar(length=20, unique=True, index=True)
    code_hash = Varchar(length=64)
    # Records are kept: a unit that received requests cannot be deleted under them.
    unit = ForeignKey(Unit, null=False, on_delete=OnDelete.restrict, index=True)
    # The applicant (申请人): a person or an organisation, his proof of identity and contacts.
    applicant_kind = Varchar(length=20)
    name = Varchar(length=100)
    id_kind = Varchar(length=20)
    id_number = Varchar(length=40)
    phone = Varchar(length=30)
    email = Varchar(length=254, default="")
    address = Varchar(length=200, default="")
    # What he asks for: the information's name or document number, a description, a purpose.
    title = Varchar(length=200)
    description = Text()
    purpose = Text(default="")
    delivery = Varchar(length=20)
    ip = Varchar(length=45, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # The day of receipt (Beijing) and the answer's deadline: 20 working days after it, and once
    # 20 more when extended with a reason (article 33).
    received_on = Date()
    original_due_on = Date()
    due_on = Date(index=True)
    extension_reason = Text(null=True, default=None)
    extended_at = Timestamptz(null=True, default=None)
    extended_by = Integer(null=True, default=None)
    # open → answered → closed, or open → closed (withdrawn, …) with a reason; open →
    # supplement (the unit asked for more details, the clock stands still) → open again.
    status = Varchar(length=20, default="open", index=True)
    # 补正 (article 30): what the unit asked, by when, and what the applicant added. His answer
    # starts the 20 working days anew from the day it arrives.
    supplement_request = Text(null=True, default=None)
    supplement_asked_at = Timestamptz(null=True, default=None)
    supplement_asked_by = Integer(null=True, default=None)
    supplement_due_on = Date(null=True, default=None)
    supplement = Text(null=True, default=None)
    supplemented_at = Timestamptz(null=True, default=None)
    decision = Varchar(length=20, null=True, default=None)
    reply = Text(default="")
    reply_reason = Text(default="")
    replied_at = Timestamptz(null=True, default=None)
    replied_by = Integer(null=True, default=None)
    # The reply's attachment, stored by SHA-256 under <data folder>/disclosure/replies.
    attachment_name = Varchar(length=200, default="")
    attachment_sha256 = Varchar(length=64, default="")
    attachment_size = Integer(default=0)
    closed_at = Timestamptz(null=True, default=None)
    closed_by = Integer(null=True, default=None)
    close_reason = Text(default="")


class UsedCheck(Table, tablename="disclosure_used_check"):
    """Human checks already answered (right or wrong), so each question is answered once."""

    nonce = Varchar(length=32, unique=True)
    used_at = Timestamptz(default=TimestamptzNow(), index=True)


REQUEST_TABLES = [InfoRequest, UsedCheck]
