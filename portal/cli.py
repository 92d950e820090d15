"""The ``portal`` command: serve, migrate, demo, plugins, createadmin, makemigrations."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import signal
import sys

from portal.settings import Settings


def _app(settings: Settings):
    from portal.app import create_app

    return create_app(settings)


async def _prepare(app, *, seed: bool, verbose: bool = True) -> None:
    from portal.app import plugin_app_configs
    from portal.auth.encryption import rotate_if_due
    from portal.db import close_engine
    from portal.migrate import apply_migrations

    portal = app.state.portal
    try:
        await apply_migrations(plugin_app_configs(portal), verbose=verbose)
        await _record_enabled_plugins(portal)
        # The login page's RSA key (MAIL-15), before the first visitor: the worker rotates it later.
        await rotate_if_due(portal.settings)
        if seed:
            from portal.demo import seed_demo

            if await seed_demo(portal):
                print("Demo organisation created: `portal demo --json` lists the accounts.")
    finally:
        await close_engine()


async def _record_enabled_plugins(portal) -> None:
    """Make the plugin states explicit on first start, so the admin page shows what runs."""
    from portal.core_tables import PluginState
    from portal.plugins import installed_plugins

    if await PluginState.count() == 0:
        enabled = set(portal.plugin_names)
        await PluginState.insert(*[PluginState(name=n, enabled=n in enabled) for n in installed_plugins()])


def cmd_serve(args, settings: Settings) -> int:
    import uvicorn

    from portal.server import raise_open_files_limit, uvicorn_options

    settings = settings.with_changes(smtp_port=0 if args.no_smtp else args.smtp_port)
    app = _app(settings)
    asyncio.run(_prepare(app, seed=args.demo, verbose=False))
    print(f"Portal at http://{args.host}:{args.port}/")
    raise_open_files_limit(settings.server_limit_concurrency)
    options = dict(log_level="info", **uvicorn_options(settings))
    if args.https_port:
        return _serve_with_https(app, args, options)
    uvicorn.run(app, host=args.host, port=args.port, **options)
    return 0


def _serve_with_https(app, args, options: dict) -> int:
    """HTTP and HTTPS listeners; HTTPS uses the certificate uploaded on /admin/tls (MAIL-21)."""
    from portal.tls.serve import Listeners

    print(f"Portal at https://{args.host}:{args.https_port}/ too, with the certificate uploaded on /admin/tls")
    if not app.state.portal.tls.available():
        print("No certificate has been uploaded yet: HTTPS refuses connections until one is.")
    try:
        asyncio.run(Listeners(app, args.host, args.port, args.https_port, **options).serve())
    except KeyboardInterrupt:  # uvicorn hands Ctrl+C on once it has shut down, as uvicorn.run does
        pass
    return 0


def cmd_worker(args, settings: Settings) -> int:
    """Run queued and periodic jobs apart from the web process (set PORTAL_WORKER=off there)."""
    from portal.db import close_engine

    app = _app(settings.with_changes(worker="off"))
    portal = app.state.portal

    async def run() -> None:
        try:
            if args.once:
                await portal.worker.queue_schedules()
                print(f"{await portal.worker.run_until_idle()} jobs run")
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signal_number, stop.set)
            await portal.worker.run_forever(stop)
        finally:
            await close_engine()

    asyncio.run(run())
    return 0


def cmd_migrate(args, settings: Settings) -> int:
    asyncio.run(_prepare(_app(settings), seed=False))
    return 0


def cmd_demo(args, settings: Settings) -> int:
    from portal.demo import demo_accounts_json

    if args.json:
        print(json.dumps(demo_accounts_json(), ensure_ascii=False, indent=2))
        return 0
    asyncio.run(_prepare(_app(settings), seed=True, verbose=False))
    return 0


def cmd_plugins(args, settings: Settings) -> int:
    from portal.app import enabled_plugins_from_db
    from portal.plugins import installed_plugins

    enabled = set(settings.plugins if settings.plugins is not None else enabled_plugins_from_db(settings))
    for plugin in installed_plugins().values():
        state = "enabled" if plugin.name in enabled else "disabled"
        print(f"{plugin.name}\t{plugin.version}\t{state}\t{plugin.distribution}")
    return 0


def cmd_createadmin(args, settings: Settings) -> int:
    from portal.accounts.services import UserForm, ValidationError, create_user
    from portal.db import close_engine

    password = args.password or os.environ.get("PORTAL_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    app = _app(settings)

    async def run() -> None:
        await _prepare(app, seed=False, verbose=False)
        try:
            await create_user(None, UserForm(args.username, args.name or args.username, args.email or "", None, None, password), roles=["admin", "staff"])
        finally:
            await close_engine()

    try:
        asyncio.run(run())
    except ValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Administrator {args.username} created; the first login sets up the second factor.")
    return 0


def cmd_makemigrations(args, settings: Settings) -> int:
    from portal.app import plugin_app_configs
    from portal.db import close_engine
    from portal.migrate import make_migration

    app = _app(settings)
    configs = {c.app_name: c for c in plugin_app_configs(app.state.portal)}

    async def run() -> None:
        try:
            print(await make_migration(configs[args.app], args.description))
        finally:
            await close_engine()

    asyncio.run(run())
    return 0


CORE_COMMANDS = ("serve", "migrate", "worker", "demo", "plugins", "createadmin", "makemigrations")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description="E-government portal")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server (migrates first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed the demo organisation into an empty database")
    serve.add_argument("--smtp-port", type=int, default=Settings.from_env().smtp_port, help="port of the SMTP listener")
    serve.add_argument("--no-smtp", action="store_true", help="do not start the SMTP listener")
    serve.add_argument("--https-port", type=int, default=0,
                       help="also serve HTTPS on this port, with the certificate uploaded by an administrator")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    worker = sub.add_parser("worker", help="run background jobs apart from the web server")
    worker.add_argument("--once", action="store_true", help="run the jobs that are due, then exit")
    worker.set_defaults(func=cmd_worker)
    demo = sub.add_parser("demo", help="seed the demo organisation")
    demo.add_argument("--json", action="store_true", help="print the demo accounts as JSON instead")
    demo.set_defaults(func=cmd_demo)
    sub.add_parser("plugins", help="list installed plugins").set_defaults(func=cmd_plugins)
    admin = sub.add_parser("createadmin", help="create an administrator account")
    admin.add_argument("username")
    admin.add_argument("--password")
    admin.add_argument("--name")
    admin.add_argument("--email")
    admin.set_defaults(func=cmd_createadmin)
    make = sub.add_parser("makemigrations", help="generate a migration for an app (run against PostgreSQL)")
    make.add_argument("app")
    make.add_argument("--description", default="")
    make.set_defaults(func=cmd_makemigrations)
    return parser


def run_plugin_command(argv: list[str], settings: Settings) -> int:
    """A sub-command some enabled plugin declared (``register_commands``)."""
    from portal.plugins import call_startup_hook

    app = _app(settings.with_changes(worker="off", services=False))
    portal = app.state.portal
    commands = {c.name: c for found in call_startup_hook(portal.pm, "register_commands", portal=portal).values() for c in found}
    parser = argparse.ArgumentParser(prog="portal")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in commands.values():
        command_parser = sub.add_parser(command.name, help=command.help)
        for flags, options in command.arguments:
            command_parser.add_argument(*flags, **options)
    args = parser.parse_args(argv)

    async def run() -> int:
        from portal.db import close_engine

        await _prepare(app, seed=False, verbose=False)
        try:
            # The application's lifespan starts what commands share with it (event channels).
            async with app.lifespan():
                return await commands[args.command].run(portal, args)
        finally:
            await close_engine()

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    settings = Settings.from_env()
    if argv and not argv[0].startswith("-") and argv[0] not in CORE_COMMANDS:
        return run_plugin_command(argv, settings)
    args = parser.parse_args(argv)
    return args.func(args, settings)


if __name__ == "__main__":
    sys.exit(main())
