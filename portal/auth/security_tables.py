"""Tables of login security: who may log in from where, when and with what (MAIL-13), and the
administrator's IP library that places each login (MAIL-20)."""

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Department, Unit, User


class LoginRule(Table, tablename="core_login_rule"):
    """A login restriction for a user or a group of users.

    ``scope`` says which one of ``user``, ``unit`` (that unit and every unit below it),
    ``department`` or ``role`` the rule applies to. An empty condition does not restrict:
    no networks means any address, no terminals any terminal, no weekdays and no times any time.
    """

    name = Varchar(length=100)
    scope = Varchar(length=20)
    user = ForeignKey(User, null=True, on_delete=OnDelete.cascade)
    unit = ForeignKey(Unit, null=True, on_delete=OnDelete.cascade)
    department = ForeignKey(Department, null=True, on_delete=OnDelete.cascade)
    role = Varchar(length=40, default="")
    # CIDR networks, one a line.
    networks = Text(default="")
    # Comma-separated terminal types: desktop, mobile, client.
    terminals = Varchar(length=60, default="")
    # User-Agent substrings naming the allowed clients (terminal type "client"), one a line.
    client_names = Text(default="")
    # ISO weekdays (1 = Monday) comma-separated, and minutes after midnight, Asia/Shanghai time.
    weekdays = Varchar(length=20, default="")
    start_minute = Integer(null=True, default=None)
    end_minute = Integer(null=True, default=None)
    enabled = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class IpLibrary(Table, tablename="core_ip_library"):
    """One row per source of the IP library: ``csv`` (its normalized lines kept here) or
    ``mmdb`` (a MaxMind DB file kept in the data directory at ``path``).

    ``sha256`` names the content, so each process knows when its cached copy is stale.
    """

    kind = Varchar(length=10, unique=True)
    filename = Varchar(length=200, default="")
    sha256 = Varchar(length=64)
    entries = Integer(default=0)
    content = Text(default="")
    path = Varchar(length=500, default="")
    uploaded_by = Varchar(length=64, default="")
    uploaded_at = Timestamptz(default=TimestamptzNow())
