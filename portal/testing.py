"""Pytest fixtures for the portal and for plugin authors (registered as the ``portal`` pytest plugin).

- ``make_app(plugins=[...], plugin_modules={...})``: an application on a fresh database;
- ``app`` and ``client``: the default application (built-in plugins) and an async test client;
- ``make_user(roles=[...])``: an account with a known password and TOTP secret;
- ``login_as(client, user)``: the real two-step login through HTTP;
- ``post_form(client, url, data)``: a form POST carrying the CSRF token, as a browser sends it.

The suite runs on SQLite; with ``PORTAL_TEST_POSTGRES_URL`` set, every database test runs on
PostgreSQL too (the ``portal_database`` fixture is parametrised).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pyotp
import pytest

from portal.settings import BUILTIN_PLUGINS, Settings

POSTGRES_URL_ENV = "PORTAL_TEST_POSTGRES_URL"
TEST_PASSWORD = "test-password-123"
_counter = itertools.count(1)


def _run_in_thread(coroutine_factory) -> Any:
    """Run a coroutine to completion in a thread with its own event loop."""
    result: list = []
    errors: list = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine_factory()))
        except BaseException as error:  # re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0] if result else None


def database_backends() -> list[str]:
    return ["sqlite", "postgres"] if os.environ.get(POSTGRES_URL_ENV) else ["sqlite"]


class DatabaseFactory:
    """Fresh databases, fast: a migrated SQLite file is copied per test; PostgreSQL is truncated."""

    def __init__(self, work_dir: Path):
        self.work_dir = work_dir
        self.sqlite_templates: dict[tuple, Path] = {}
        self.pg_migrated: set[tuple] = set()
        # The rows the migrations wrote: table -> (columns, records).
        self.pg_seed: dict[str, tuple[list[str], list[tuple]]] = {}
        self.pg_url: str | None = None

    @staticmethod
    def _key(plugins, plugin_modules) -> tuple:
        return tuple(sorted(plugins)) + tuple(sorted(plugin_modules or {}))

    def _migrate(self, settings: Settings, plugins, plugin_modules) -> None:
        from portal.app import create_app, plugin_app_configs
        from portal.db import close_engine
        from portal.migrate import apply_migrations

        async def run() -> None:
            app = create_app(settings, plugins=list(plugins), plugin_modules=plugin_modules)
            try:
                await apply_migrations(plugin_app_configs(app.state.portal))
            finally:
                await close_engine()

        _run_in_thread(run)

    def sqlite(self, target_dir: Path, plugins, plugin_modules) -> None:
        key = self._key(plugins, plugin_modules)
        template = self.sqlite_templates.get(key)
        if template is None:
            folder = self.work_dir / f"template-{len(self.sqlite_templates)}"
            settings = Settings(data_dir=folder, secret_key="template")
            self._migrate(settings, plugins, plugin_modules)
            template = settings.sqlite_path
            self.sqlite_templates[key] = template
        target_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(template, target_dir / "portal.sqlite3")

    def postgres(self, data_dir: Path, plugins, plugin_modules) -> str:
        if self.pg_url is None:
            self.pg_url = self._create_pg_database()
        key = self._key(plugins, plugin_modules)
        if key not in self.pg_migrated:
            # Migrate an emptied database, so that what the migrations wrote (reference data such
            # as classification trees) is told apart from an earlier test's rows; every test then
            # starts from that, as a copy of the migrated SQLite file does.
            _run_in_thread(lambda: _truncate_all(self.pg_url, self.pg_seed))
            self._migrate(Settings(data_dir=data_dir, database_url=self.pg_url, secret_key="t"), plugins, plugin_modules)
            self.pg_seed = _run_in_thread(lambda: _read_seed(self.pg_url))
            self.pg_migrated.add(key)
        _run_in_thread(lambda: _truncate_all(self.pg_url, self.pg_seed))
        return self.pg_url

    def _create_pg_database(self) -> str:
        import asyncpg

        base = os.environ[POSTGRES_URL_ENV]
        name = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

        async def create() -> None:
            connection = await asyncpg.connect(base)
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        _run_in_thread(create)
        self.pg_name = name
        return base.rsplit("/", 1)[0] + f"/{name}"

    def drop(self) -> None:
        if self.pg_url is None:
            return
        import asyncpg

        async def drop() -> None:
            connection = await asyncpg.connect(os.environ[POSTGRES_URL_ENV])
            try:
                await connection.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            finally:
                await connection.close()

        _run_in_thread(drop)


_USER_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migration'"


async def _read_seed(url: str) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every row of every table but the migrations' own, by table."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        seed = {}
        for table in await connection.fetch(_USER_TABLES):
            rows = await connection.fetch(f'SELECT * FROM "{table["tablename"]}"')
            if rows:
                seed[table["tablename"]] = (list(rows[0].keys()), [tuple(r.values()) for r in rows])
        return seed
    finally:
        await connection.close()


async def _truncate_all(url: str, seed: dict[str, tuple[list[str], list[tuple]]] | None = None) -> None:
    """Empty every table, then put back ``seed`` with the serial counters past its rows."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(_USER_TABLES)
        if rows:
            names = ", ".join(f'"{r["tablename"]}"' for r in rows)
            await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        if not seed:
            return
        # Triggers and foreign keys are off while the rows go back in any table order (a role
        # that may not turn them off puts them back in the order they were read).
        try:
            await connection.execute("SET session_replication_role = replica")
        except asyncpg.InsufficientPrivilegeError:
            pass
        for table, (columns, records) in seed.items():
            await connection.copy_records_to_table(table, records=records, columns=columns)
        await connection.execute("RESET session_replication_role")
        serials = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_default LIKE 'nextval(%'")
        for serial in serials:
            if serial["table_name"] in seed:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{serial['table_name']}\"', '{serial['column_name']}'), "
                    f"(SELECT max(\"{serial['column_name']}\") FROM \"{serial['table_name']}\"))")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def portal_database_factory(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory.mktemp("portal-db"))
    yield factory
    factory.drop()


@pytest.fixture(params=database_backends())
def portal_database(request) -> str:
    """The database backend of this test run: ``sqlite``, or also ``postgres`` when configured."""
    return request.param


@pytest.fixture
def portal_plugins() -> list[str]:
    """The plugins ``app`` enables; override this fixture to choose others."""
    return list(BUILTIN_PLUGINS)


@pytest.fixture
def make_app(tmp_path, portal_database, portal_database_factory):
    """Build an application on a fresh, migrated database.

    The SQLite connections of every application built here are closed after the test, also
    when no client ran the application's shutdown: each has a (non-daemon) thread that would
    otherwise keep the test process from exiting."""
    from portal.app import create_app
    from portal.db import PortalSQLiteEngine, current_engine

    engines: list = []

    def factory(plugins: list[str] | None = None, plugin_modules: dict[str, ModuleType] | None = None, **changes: Any):
        plugins = list(BUILTIN_PLUGINS) if plugins is None else list(plugins)
        data_dir = tmp_path / f"data-{next(_counter)}"
        database_url = None
        if portal_database == "postgres":
            database_url = portal_database_factory.postgres(data_dir, plugins, plugin_modules)
        else:
            portal_database_factory.sqlite(data_dir, plugins, plugin_modules)
        # Tests run queued jobs themselves (``app.state.portal.worker.run_until_idle()``).
        changes.setdefault("worker", "off")
        changes.setdefault("services", False)
        changes.setdefault("secret_key", "test-secret-key")
        settings = Settings(data_dir=data_dir, database_url=database_url, **changes)
        app = create_app(settings, plugins=plugins, plugin_modules=plugin_modules)
        engines.append(current_engine())
        return app

    yield factory
    for engine in engines:
        if isinstance(engine, PortalSQLiteEngine):
            _run_in_thread(engine.close)


@pytest.fixture
def app(make_app, portal_plugins):
    return make_app(plugins=portal_plugins)


@pytest.fixture
async def client(app):
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app, base_url="http://127.0.0.1") as test_client:
        test_client.follow_redirects = False
        yield test_client


@dataclass
class TestUser:
    id: int
    username: str
    password: str
    totp_secret: str | None
    roles: list[str] = field(default_factory=list)

    def totp_code(self) -> str:
        return pyotp.TOTP(self.totp_secret).now()


@pytest.fixture
def make_user(client):
    """Create an account; ``enrolled=False`` leaves it without a second factor."""

    async def factory(username: str | None = None, roles: list[str] | None = None, *, enrolled: bool = True,
                      unit_id: int | None = None, department_id: int | None = None, password: str = TEST_PASSWORD) -> TestUser:
        from portal.accounts.services import UserForm, create_user
        from portal.accounts.tables import User

        username = username or f"user{next(_counter)}"
        user_id = await create_user(None, UserForm(username, username.title(), f"{username}@test.example", unit_id, department_id, password),
                                    roles=roles or ["staff"])
        secret = pyotp.random_base32() if enrolled else None
        if secret:
            await User.update({User.totp_secret: secret}).where(User.id == user_id)
        return TestUser(user_id, username, password, secret, roles or ["staff"])

    return factory


def csrf_token(client) -> str:
    return client.cookies.get("portal_csrf", "")


async def post_form(client, url: str, data: dict[str, Any] | None = None, **kwargs):
    """POST a form the way a browser does, CSRF token included (after a GET set the cookie)."""
    if not csrf_token(client):
        await client.get("/login")
    return await client.post(url, data={**(data or {}), "_csrf_token": csrf_token(client)}, **kwargs)


async def login_as(client, user: TestUser):
    """Log in through both steps. Resets the replay guard first, so a test may log in repeatedly."""
    from portal.accounts.tables import User

    await User.update({User.totp_last_step: 0}).where(User.id == user.id)
    response = await post_form(client, "/login", {"username": user.username, "password": user.password})
    assert response.status_code == 303, response.text
    response = await post_form(client, "/login/verify", {"code": user.totp_code()})
    assert response.status_code == 303, response.text
    return response


@pytest.fixture
def portal_login():
    return login_as


class LiveServer:
    """The application served by uvicorn on a free loopback port, inside the test's event loop."""

    def __init__(self, app, **options):
        """``options`` are further ``uvicorn.Config`` settings (``portal.server.uvicorn_options``)."""
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", **options))
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> "LiveServer":
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def client(self):
        import httpx

        return httpx.AsyncClient(base_url=self.url, follow_redirects=False, timeout=10)

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 10)


@pytest.fixture
async def live_server(app):
    async with LiveServer(app) as server:
        yield server
