"""The plugin manager: finds plugins through the ``portal.plugins`` entry-point group.

Installed is not enabled: only the plugins named in ``enabled`` are registered with pluggy,
so an installed but disabled plugin is listed and inert.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from portal import hookspecs

ENTRY_POINT_GROUP = "portal.plugins"


@dataclass(frozen=True)
class InstalledPlugin:
    name: str
    module: str
    version: str
    distribution: str


def installed_plugins() -> dict[str, InstalledPlugin]:
    found: dict[str, InstalledPlugin] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        found[ep.name] = InstalledPlugin(
            name=ep.name,
            module=ep.value,
            version=dist.version if dist else "",
            distribution=dist.metadata["Name"] if dist else "",
        )
    return found


class UnknownPlugin(LookupError):
    pass


def make_plugin_manager(enabled: list[str] | tuple[str, ...], modules: dict[str, ModuleType] | None = None) -> pluggy.PluginManager:
    """Register the enabled plugins, by entry-point name; ``modules`` adds ones given directly.

    Raises ``pluggy.PluginValidationError`` for a hookimpl with no matching hookspec (a
    misspelt hook name fails loudly here instead of never running).
    """
    pm = pluggy.PluginManager("portal")
    pm.add_hookspecs(hookspecs)
    installed = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for name in enabled:
        if modules and name in modules:
            pm.register(modules[name], name=name)
            continue
        if name not in installed:
            raise UnknownPlugin(f"plugin {name!r} is enabled but not installed")
        pm.register(installed[name].load(), name=name)
    for name, module in (modules or {}).items():
        if pm.get_plugin(name) is None:
            pm.register(module, name=name)
    pm.check_pending()
    return pm


async def await_me_maybe(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


async def gather_hook(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[Any]:
    """Call a hook and flatten the results: each implementation may return an item, a list or an awaitable."""
    results = getattr(pm.hook, hook_name)(**kwargs)
    items: list[Any] = []
    for result in results:
        result = await await_me_maybe(result)
        if result is None:
            continue
        if isinstance(result, (list, tuple)):
            items.extend(result)
        else:
            items.append(result)
    return items


def call_startup_hook(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> dict[str, Any]:
    """Call a start-up hook synchronously, returning {plugin name: result} for those that answered.

    These hooks build the application, so they must return their value, not an awaitable.
    """
    answers: dict[str, Any] = {}
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        result = impl.function(**{k: kwargs[k] for k in impl.argnames})
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise TypeError(f"plugin {impl.plugin_name!r}: {hook_name} must return its value, not an awaitable "
                            "(it is called while the application is built)")
        if result is not None:
            answers[impl.plugin_name] = result
    return answers
