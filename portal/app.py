"""``create_app(settings)``: the Litestar application with the enabled plugins."""

from __future__ import annotations

import asyncio
import re
import threading
from functools import partial
from pathlib import Path
from types import ModuleType

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.stores.file import FileStore

from portal import db, i18n
from portal.api import TableSet
from portal.auth.encryption import ROTATION_JOB
from portal.core_tables import CORE_MIGRATIONS, CORE_TABLES, PluginState
from portal.facade import Portal
from portal.plugins import call_startup_hook, make_plugin_manager
from portal.roles import CORE_PERMISSIONS, PermissionRegistry, role_labels
from portal.settings import BUILTIN_PLUGINS, Settings, ensure_secret_key
from portal.templating import CORE_STATIC, StaticFiles, Templates, discover_themes


def plugin_app_configs(portal: Portal) -> list:
    configs = [db.app_config("core", CORE_TABLES, CORE_MIGRATIONS)]
    for name, table_set in call_startup_hook(portal.pm, "register_tables", portal=portal).items():
        if not isinstance(table_set, TableSet) or table_set.app_name != name:
            raise ValueError(f"plugin {name!r}: register_tables must return a TableSet named {name!r}")
        configs.append(db.app_config(table_set.app_name, table_set.tables, table_set.migrations_dir))
    return configs


def enabled_plugins_from_db(settings: Settings) -> list[str]:
    """The plugins an administrator enabled; the built-ins when nothing was chosen yet."""

    async def read() -> list[str] | None:
        engine = db.make_engine(settings.database_url, settings.sqlite_path)
        db.configure(engine, [db.app_config("core", CORE_TABLES, CORE_MIGRATIONS)])
        try:
            if not await PluginState.table_exists():
                return None
            rows = await PluginState.select()
            if not rows:
                return None
            return [r["name"] for r in rows if r["enabled"]]
        finally:
            await db.close_engine()

    result: list = []
    # A thread of its own, so this works whether or not an event loop is already running.
    thread = threading.Thread(target=lambda: result.append(asyncio.run(read())))
    thread.start()
    thread.join()
    return list(BUILTIN_PLUGINS) if result[0] is None else result[0]


def create_app(settings: Settings | None = None, *, plugins: list[str] | None = None,
               plugin_modules: dict[str, ModuleType] | None = None) -> Litestar:
    """Build the application. ``plugins`` names the enabled plugins (default: the settings, else
    what the administrator enabled); ``plugin_modules`` registers modules directly (tests)."""
    settings = ensure_secret_key(settings or Settings.from_env())
    if plugins is None:
        plugins = list(settings.plugins) if settings.plugins is not None else enabled_plugins_from_db(settings)
    pm = make_plugin_manager(plugins, plugin_modules)
    portal = Portal(settings, pm)

    apps = plugin_app_configs(portal)
    db.configure(db.make_engine(settings.database_url, settings.sqlite_path), apps)

    themes = discover_themes()
    statics = {"core": CORE_STATIC, **{n: Path(p) for n, p in call_startup_hook(pm, "register_static", portal=portal).items()}}
    template_dirs = [Path(p) for p in call_startup_hook(pm, "register_templates", portal=portal).values()]
    i18n.load_catalogs([Path(p) for p in call_startup_hook(pm, "register_locales", portal=portal).values()])

    permissions = list(CORE_PERMISSIONS)
    portal.worker = make_worker(portal)
    for name, declared in call_startup_hook(pm, "register_permissions", portal=portal).items():
        for permission in declared:
            if not permission.name.startswith(f"{name}."):
                raise ValueError(f"plugin {name!r}: permission {permission.name!r} must start with {name!r}.")
            permissions.append(permission)
    portal.permissions = PermissionRegistry(permissions)

    from portal.web.shell import template_globals

    static_files = StaticFiles(statics, themes)
    portal.templates = Templates(template_dirs, static_files, themes, template_globals(portal, themes, static_files))

    from portal.web.routes import core_route_handlers
    from portal.web.errors import exception_handlers
    from portal.web.middleware import SecurityHeadersMiddleware, current_user_middleware
    from portal.web.ratelimit import rate_limit_middleware
    from portal.web.sessions import SessionConfig

    plugin_routes = []
    for name, handlers in call_startup_hook(pm, "register_routes", portal=portal).items():
        plugin_routes.append(Router(path=f"/{name}", route_handlers=list(handlers)))
    plugin_routes += site_routers(portal, core_route_handlers())

    from portal.notify import make_channels_plugin

    channels = make_channels_plugin(settings)
    portal.channels = channels
    app = Litestar(
        route_handlers=[*core_route_handlers(), *plugin_routes],
        plugins=[channels],
        middleware=[
            SecurityHeadersMiddleware(),
            SessionConfig(
                key="portal_session", max_age=12 * 3600, secure=settings.secure_cookies, samesite="lax", httponly=True,
                exclude=["^/static/"],
            ).middleware,
            current_user_middleware,
            *rate_limit_middleware(settings),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key, cookie_name="portal_csrf", cookie_secure=settings.secure_cookies,
            cookie_httponly=True, cookie_samesite="lax", header_name="x-csrftoken", exclude=["^/static/"],
        ),
        compression_config=CompressionConfig(backend="gzip", minimum_size=500, gzip_compress_level=6),
        stores=_stores(settings),
        exception_handlers=exception_handlers(),
        request_max_body_size=settings.max_request_body,
        on_startup=[partial(_startup, portal)],
        on_shutdown=[partial(_shutdown, portal)],
        openapi_config=None,
        debug=False,
    )
    app.state.portal = portal
    app.state.role_labels = role_labels
    portal.app = app
    return app


SITE_PREFIX = re.compile(r"[a-z][a-z0-9_-]{0,29}")


def site_routers(portal: Portal, core_handlers: list) -> list[Router]:
    """The plugins' ``register_site_routes``, each prefix checked against the core's routes, the
    plugins' own prefixes and each other, so no plugin can shadow another's pages."""
    taken = {path.strip("/").split("/")[0]: "the core" for handler in core_handlers for path in handler.paths}
    taken.update({name: f"plugin {name!r}" for name in portal.plugin_names})
    routers = []
    for name, declared in call_startup_hook(portal.pm, "register_site_routes", portal=portal).items():
        if not isinstance(declared, dict):
            raise ValueError(f"plugin {name!r}: register_site_routes must return a dict {{prefix: route handlers}}")
        for prefix, handlers in declared.items():
            if not isinstance(prefix, str) or not SITE_PREFIX.fullmatch(prefix):
                raise ValueError(f"plugin {name!r}: site prefix {prefix!r} must be one lowercase word")
            if prefix in taken:
                raise ValueError(f"plugin {name!r}: site prefix {prefix!r} is taken by {taken[prefix]}")
            taken[prefix] = f"plugin {name!r}"
            routers.append(Router(path=f"/{prefix}", route_handlers=list(handlers)))
    return routers


def _stores(settings: Settings) -> dict:
    """Sessions and rate-limit counters: in one Redis (one client) when configured."""
    from portal.web.ratelimit import STORE, rate_limit_store

    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        redis = RedisStore.with_client(url=settings.redis_url, namespace="portal")
        return {"sessions": redis.with_namespace("sessions"), STORE: rate_limit_store(settings, redis)}
    folder = settings.data_dir / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    return {"sessions": FileStore(folder), STORE: rate_limit_store(settings, None)}


async def _shutdown(portal: Portal) -> None:
    for stop in reversed(getattr(portal, "running_services", [])):
        await stop()
    task = getattr(portal, "worker_task", None)
    if task is not None:
        portal.worker_stop.set()
        await asyncio.wait_for(task, 10)
    await db.close_engine()


def make_worker(portal: Portal):
    """The job worker with the core's periodic jobs, and every enabled plugin's task handlers and periodic jobs."""
    from portal.jobs import TaskHandler, Worker

    from portal.health import report

    handlers: dict[str, TaskHandler] = {report.KIND: report.HANDLER}
    for name, declared in call_startup_hook(portal.pm, "register_task_handlers", portal=portal).items():
        for kind, handler in declared.items():
            if not kind.startswith(f"{name}."):
                raise ValueError(f"plugin {name!r}: task kind {kind!r} must start with {name!r}.")
            handlers[kind] = handler
    periodic = [ROTATION_JOB]
    periodic += [job for jobs in call_startup_hook(portal.pm, "register_jobs", portal=portal).values() for job in jobs]
    return Worker(portal, handlers, periodic)


async def _startup(portal: Portal) -> None:
    from portal.plugins import gather_hook

    portal.running_services = []
    if portal.settings.services:
        for service in await gather_hook(portal.pm, "register_services", portal=portal):
            portal.running_services.append(await service.start(portal))
    if portal.settings.worker == "inline":
        portal.worker_stop = asyncio.Event()
        portal.worker_task = asyncio.create_task(portal.worker.run_forever(portal.worker_stop))
    await gather_hook(portal.pm, "on_startup", portal=portal)
