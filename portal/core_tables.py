"""The core's Piccolo app: its tables, in dependency order, and its migrations folder."""

from pathlib import Path

from piccolo.columns import Boolean, Varchar
from piccolo.table import Table

import migrations
from portal.accounts.tables import Department, RoleAssignment, Unit, User
from portal.audit.tables import AuditEntry
from portal.auth.security_tables import IpLibrary, LoginRule
from portal.auth.tables import LockoutPolicy, LoginAttempt, LoginKey, LoginLock, RecoveryCode, UsedLoginNonce, UserSession
from portal.health.tables import HealthReport
from portal.jobs.tables import QueuedJob, Schedule


class PluginState(Table, tablename="core_plugin_state"):
    """Whether an administrator enabled an installed plugin (takes effect at the next start)."""

    name = Varchar(length=64, unique=True)
    enabled = Boolean(default=False)


CORE_TABLES = [Unit, Department, User, RoleAssignment, LoginAttempt, UserSession, RecoveryCode, AuditEntry, PluginState, QueuedJob,
               LoginRule, IpLibrary, Schedule, HealthReport, LoginLock, LockoutPolicy, LoginKey, UsedLoginNonce]
CORE_MIGRATIONS = Path(migrations.__file__).parent / "core"
