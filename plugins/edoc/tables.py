from piccolo.columns import ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import User


class Document(Table, tablename="edoc_document"):
    title = Varchar(length=200)
    # upward (上行文), downward (下行文), parallel (平行文)
    direction = Varchar(length=10)
    status = Varchar(length=20, default="draft")
    drafter = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
