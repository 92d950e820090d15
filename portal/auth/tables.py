"""Tables of authentication: login attempts, live sessions, recovery codes."""

from piccolo.columns import ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import User


class LoginAttempt(Table, tablename="core_login_attempt"):
    username = Varchar(length=64, index=True)
    user = ForeignKey(User, null=True, on_delete=OnDelete.cascade)
    ip = Varchar(length=45, index=True)
    user_agent = Varchar(length=300, default="")
    # ok, bad_password, bad_code, unknown_user, locked, inactive
    result = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class UserSession(Table, tablename="core_user_session"):
    """A logged-in browser; deleting the row ends that session at its next request."""

    token = Varchar(length=64, unique=True, index=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    ip = Varchar(length=45)
    user_agent = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())


class RecoveryCode(Table, tablename="core_recovery_code"):
    user = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    code_hash = Varchar(length=64)
    used_at = Timestamptz(null=True, default=None)
