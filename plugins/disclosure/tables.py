from piccolo.columns import ForeignKey, Integer, OnDelete, Varchar
from piccolo.table import Table

from portal.accounts.tables import Unit


class Category(Table, tablename="disclosure_category"):
    """A category of a unit's disclosure catalog (政府信息公开目录)."""

    unit = ForeignKey(Unit, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    position = Integer(default=0)
