from piccolo.columns import JSON, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import User


class AuditEntry(Table, tablename="core_audit_entry"):
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    actor = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    actor_name = Varchar(length=64, default="")
    # <app>.<verb>, e.g. core.user.create, webmail.quota.change
    action = Varchar(length=80, index=True)
    target_type = Varchar(length=40, default="")
    target_id = Varchar(length=64, default="")
    summary = Varchar(length=300, default="")
    ip = Varchar(length=45, default="")
    details = JSON(default={})
