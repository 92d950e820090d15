"""Tables of the organisation: units (a tree), departments, users and scoped role assignments."""

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

UNIT_LEVELS = ("province", "city", "county", "township")


class Unit(Table, tablename="core_unit"):
    """单位: a government body; units form the tree province › city › county › township."""

    name = Varchar(length=100)
    code = Varchar(length=40, unique=True, index=True)
    level = Varchar(length=20, choices=None)
    parent = ForeignKey("self", null=True, on_delete=OnDelete.restrict)
    mail_domain = Varchar(length=100, null=True, default=None)
    document_prefix = Varchar(length=20, default="")


class Department(Table, tablename="core_department"):
    unit = ForeignKey(Unit, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    # The general office (办公室) of the unit handles document registration and sending.
    is_office = Boolean(default=False)


class User(Table, tablename="core_user"):
    username = Varchar(length=64, unique=True, index=True)
    display_name = Varchar(length=100)
    email = Varchar(length=254, default="")
    password_hash = Text()
    unit = ForeignKey(Unit, null=True, on_delete=OnDelete.set_null)
    department = ForeignKey(Department, null=True, on_delete=OnDelete.set_null)
    active = Boolean(default=True)
    totp_secret = Varchar(length=64, null=True, default=None)
    # Time step of the last TOTP code accepted: a code of this step or earlier is a replay.
    totp_last_step = Integer(default=0)
    locale = Varchar(length=10, default="")
    theme = Varchar(length=30, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_login_at = Timestamptz(null=True, default=None)
    # Set by an administrator (account health, MAIL-11): the next login must choose a new
    # password before anything else.
    must_change_password = Boolean(default=False)


class RoleAssignment(Table, tablename="core_role_assignment"):
    """A role held in a scope: a whole unit, or one department of it."""

    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=40)
    unit = ForeignKey(Unit, null=True, on_delete=OnDelete.cascade)
    department = ForeignKey(Department, null=True, on_delete=OnDelete.cascade)
