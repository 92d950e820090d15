"""Tables of the catalog's duties: updates after a change (CAT-4) and sharing requests (CAT-5).

- ``ChangeEvent``: a change of law or of a department's duties, recorded by the big-data bureau
  of a level; ``ChangeDuty``: each department concerned, which must update its catalog within
  15 working days. Whether it did is read from its filings (``catalog_filing``), not stored
  here: the one fact a duty row keeps is the department's own declaration that its catalog
  needs no change, and which reminders were sent.
- ``ShareRequest``: a department's request for another's shared resource, with what the
  resource was when requested (its entry is replaced at each approved version), granted at once
  (无条件共享) or decided by the owner department (有条件共享). A granted request is a grant.
"""

from piccolo.columns import Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Department


class ChangeEvent(Table, tablename="catalog_change_event"):
    """A change that obliges departments to update their catalogs (《山东省电子政务和政务数据管理办法》
    第十六条): a law or regulation changed (``law``), or a department's duties changed (``duties``)."""

    # The unit whose big-data bureau recorded it; the departments concerned are of it or below.
    unit = Integer(index=True)
    kind = Varchar(length=12)
    title = Varchar(length=200)
    description = Text(default="")
    legal_basis = Varchar(length=500, default="")
    # The day the change took effect; the working days are counted from it.
    occurred_on = Date()
    limit_days = Integer(default=15)
    recorded_by = Integer()
    recorded_at = Timestamptz(default=TimestamptzNow())
    # A mistaken record is cancelled (kept, with the reason), never deleted.
    cancelled_by = Integer(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    cancel_reason = Text(default="")


class ChangeDuty(Table, tablename="catalog_change_duty"):
    """A department concerned by an event: its catalog is due updated by ``due_on`` (unique per
    event and department by a raw index)."""

    event = ForeignKey(ChangeEvent, on_delete=OnDelete.cascade, index=True)
    department = ForeignKey(Department, on_delete=OnDelete.cascade, index=True)
    # The department's unit, so the bureau of a level lists its own and the levels below.
    unit = Integer(index=True)
    due_on = Date(index=True)
    # The department's editor declared that the change needs no change of its catalog.
    declared_by = Integer(null=True, default=None)
    declared_at = Timestamptz(null=True, default=None)
    declaration = Text(default="")
    # The last reminder sent: 0 none, 1 the notice, 2 due soon, 3 overdue (each sent once).
    reminded_stage = Integer(default=0)


class ShareRequest(Table, tablename="catalog_share_request"):
    """A request for a shared resource of another department (共享申请). ``status``: ``pending``
    (with the owner), ``granted`` (at once when unconditional, or approved), ``refused`` (with
    the reason), ``withdrawn`` (by the requester while pending). At most one pending or granted
    request per requesting department and resource (a partial unique index)."""

    resource_id = Integer(index=True)
    code = Varchar(length=40)
    name = Varchar(length=200)
    share_type = Varchar(length=20)
    share_method = Varchar(length=20, default="")
    # The owner's conditions of use as they stood when the requester accepted them.
    conditions = Text(default="")
    owner_department = Integer(index=True)
    owner_unit = Integer(index=True)
    requester = Integer(index=True)
    requester_department = Integer(index=True)
    requester_unit = Integer(index=True)
    purpose = Text()
    status = Varchar(length=12, default="pending", index=True)
    requested_at = Timestamptz(default=TimestamptzNow())
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    # The refusal's reason, or the owner's remark with a grant (how to reach the data).
    answer = Text(default="")


DUTY_TABLES = [ChangeEvent, ChangeDuty, ShareRequest]
