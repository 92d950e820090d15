"""What the administration pages read, and the plugin choices an administrator makes.

Units, departments, users and roles are changed through ``portal.accounts.services``; this
module adds the look-ups the pages need and enabling or disabling installed plugins, which
takes effect at the next start (``portal.app.enabled_plugins_from_db`` reads it).
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.accounts.tables import Department, Unit, User
from portal.api import CurrentUser
from portal.audit.services import write_audit
from portal.core_tables import PluginState
from portal.db import write_transaction
from portal.plugins import installed_plugins
from portal.settings import BUILTIN_PLUGINS


async def get_unit(unit_id: int) -> dict | None:
    return await Unit.select().where(Unit.id == unit_id).first()


async def get_user(user_id: int) -> dict | None:
    """A user's row without the secrets, plus whether a second factor is enrolled."""
    row = await User.select(
        User.id, User.username, User.display_name, User.email, User.unit, User.department, User.active,
        User.created_at, User.last_login_at, User.totp_secret,
        User.unit.name.as_alias("unit_name"), User.department.name.as_alias("department_name"),
    ).where(User.id == user_id).first()
    if row is None:
        return None
    row["enrolled"] = bool(row.pop("totp_secret"))
    return row


async def all_departments() -> dict[int, list[dict]]:
    """Every department, by unit id, ordered by name (for the unit and scope choosers)."""
    grouped: dict[int, list[dict]] = {}
    for row in await Department.select().order_by(Department.name):
        grouped.setdefault(row["unit"], []).append(row)
    return grouped


# Plugins -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginStatus:
    name: str
    version: str
    distribution: str
    # What the administrator chose: enabled at the next start.
    enabled: bool
    # Registered in the running application.
    running: bool


async def plugin_choices() -> dict[str, bool]:
    """Plugin name -> enabled, as stored; the built-ins count as enabled while nothing is stored."""
    rows = await PluginState.select()
    if not rows:
        return {name: True for name in BUILTIN_PLUGINS}
    return {row["name"]: row["enabled"] for row in rows}


async def plugin_statuses(running: list[str]) -> list[PluginStatus]:
    choices = await plugin_choices()
    return [
        PluginStatus(p.name, p.version, p.distribution, choices.get(p.name, False), p.name in running)
        for p in sorted(installed_plugins().values(), key=lambda p: p.name)
    ]


class UnknownPluginError(LookupError):
    pass


async def set_plugin_enabled(actor: CurrentUser, name: str, enabled: bool, ip: str = "") -> None:
    """Enable or disable an installed plugin from the next start on, and audit it."""
    if name not in installed_plugins():
        raise UnknownPluginError(name)
    async with write_transaction():
        if not await PluginState.count():
            # Nothing stored meant "the built-ins": store that first, so the other built-ins stay enabled.
            await PluginState.insert(*[PluginState(name=n, enabled=True) for n in BUILTIN_PLUGINS])
        if await PluginState.exists().where(PluginState.name == name):
            await PluginState.update({PluginState.enabled: enabled}).where(PluginState.name == name)
        else:
            await PluginState.insert(PluginState(name=name, enabled=enabled))
        await write_audit("core.plugin.enable" if enabled else "core.plugin.disable", actor=actor,
                          target_type="plugin", target_id=name, summary=name, ip=ip)
