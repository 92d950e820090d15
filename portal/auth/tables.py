"""Tables of authentication: login attempts, locks, live sessions, recovery codes, login keys."""

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import User


class LoginAttempt(Table, tablename="core_login_attempt"):
    username = Varchar(length=64, index=True)
    user = ForeignKey(User, null=True, on_delete=OnDelete.cascade)
    ip = Varchar(length=45, index=True)
    user_agent = Varchar(length=300, default="")
    # ok, bad_password, bad_code, unknown_user, locked, inactive, restricted
    result = Varchar(length=20)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    # Why a "restricted" login was refused: network, terminal or time (MAIL-13).
    reason = Varchar(length=20, default="")
    # Where the address is, from the IP library (MAIL-20); empty when unknown.
    place = Varchar(length=100, default="")
    # This successful login came from a place the user had not used before: he was alerted.
    new_place = Boolean(default=False)


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


class LoginLock(Table, tablename="core_login_lock"):
    """A username or an address locked after too many failures (MAIL-16); an administrator may end it early."""

    kind = Varchar(length=10)  # "username" or "ip"
    value = Varchar(length=64, index=True)
    failures = Integer()
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    until = Timestamptz()
    unlocked_at = Timestamptz(null=True, default=None)


class LockoutPolicy(Table, tablename="core_lockout_policy"):
    """The administrator's lockout rule (one row); without it the settings ``lockout_*`` apply."""

    threshold = Integer()
    window_minutes = Integer()
    lock_minutes = Integer()
    updated_at = Timestamptz(default=TimestamptzNow())


class LoginKey(Table, tablename="core_login_key"):
    """An RSA key pair the login page encrypts passwords with (MAIL-15); rotated on a schedule."""

    public_key = Text()  # SubjectPublicKeyInfo, DER, base64: what WebCrypto imports
    private_key = Text()  # PKCS#8 PEM, encrypted with the portal's secret key
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class UsedLoginNonce(Table, tablename="core_used_login_nonce"):
    """Nonces of encrypted passwords already received, so a captured ciphertext cannot be sent again."""

    nonce = Varchar(length=32, unique=True)
    used_at = Timestamptz(default=TimestamptzNow(), index=True)
