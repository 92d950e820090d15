from piccolo.columns import ForeignKey, OnDelete, Text, Varchar
from piccolo.table import Table

from portal.accounts.tables import Department


class Resource(Table, tablename="catalog_resource"):
    """A data resource (信息资源) of a department's catalog."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, index=True)
    code = Varchar(length=40, unique=True)
    name = Varchar(length=200)
    abstract = Text(default="")
    # unconditional (无条件共享), conditional (有条件共享), none (不予共享)
    share_type = Varchar(length=20, default="conditional")
