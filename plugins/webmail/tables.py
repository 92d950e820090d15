from piccolo.columns import BigInt, ForeignKey, OnDelete, Varchar
from piccolo.table import Table

from portal.accounts.tables import User


class Mailbox(Table, tablename="webmail_mailbox"):
    """One mailbox per account: its address and quota."""

    owner = ForeignKey(User, on_delete=OnDelete.cascade, unique=True)
    address = Varchar(length=254, unique=True, index=True)
    quota_bytes = BigInt(default=2 * 1024 * 1024 * 1024)
    used_bytes = BigInt(default=0)
