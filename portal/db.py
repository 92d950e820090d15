"""The database engine and the Piccolo app registry.

``PICCOLO_CONF`` points at this module, so Piccolo's own machinery (migrations, the
``Migration`` table) finds ``DB`` and ``APP_REGISTRY`` here. ``configure()`` sets both from
the settings and the enabled plugins' ``register_tables`` hooks before anything runs a query.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import aiosqlite
import asyncpg
from piccolo.conf.apps import AppConfig, AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

os.environ.setdefault("PICCOLO_CONF", "portal.db")

DB: Engine | None = None
APP_REGISTRY = AppRegistry(apps=[])


# Every SQLite connection of the portal: foreign keys enforced, WAL, each commit flushed to disk.
CONNECTION_PRAGMAS = ("PRAGMA foreign_keys = 1", "PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL")


class PortalSQLiteEngine(SQLiteEngine):
    """SQLite in WAL mode with one long-lived connection for statements outside transactions.

    Piccolo's engine opens a new connection (and thread) for every such statement, which made
    a page 3.4x slower in our reference measurements (see PERFORMANCE.md). Transactions still
    get a connection of their own so that ``BEGIN IMMEDIATE`` serialises writers.
    """

    _shared: aiosqlite.Connection | None = None
    _writer: aiosqlite.Connection | None = None
    _locks: weakref.WeakKeyDictionary | None = None

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        # Every connection has a (non-daemon) thread: close() closes them all, whatever opened them.
        self.__dict__.setdefault("_opened", []).append(connection)
        connection.row_factory = _dict_factory
        for pragma in CONNECTION_PRAGMAS:
            await connection.execute(pragma)
        return connection

    async def get_connection(self):
        """The writer connection, leased to one transaction at a time (SQLite has one writer
        anyway); opening a connection and its thread per transaction cost more than the write."""
        lock = self._loop_lock("writer")
        await lock.acquire()
        try:
            if self._writer is None:
                self._writer = await self._connect()
        except BaseException:
            lock.release()
            raise
        return _LeasedConnection(self._writer, lock)

    def _loop_lock(self, name: str) -> asyncio.Lock:
        """The lock called ``name`` of the running event loop (an asyncio lock serves one loop)."""
        if self._locks is None:
            self._locks = weakref.WeakKeyDictionary()
        locks = self._locks.setdefault(asyncio.get_running_loop(), {})
        return locks.setdefault(name, asyncio.Lock())

    async def _run_in_new_connection(self, query, args=None, query_type="generic", table=None):
        if self._shared is None:
            # Opened once: statements arriving together must not each open (and leak) one.
            async with self._loop_lock("shared"):
                if self._shared is None:
                    self._shared = await self._connect()
        # One trip to the connection's thread (execute, fetch and close were three).
        return await self._shared.execute_fetchall(query, args or [])

    async def close(self) -> None:
        self._shared = self._writer = None
        opened, self.__dict__["_opened"] = self.__dict__.get("_opened", []), []
        for connection in opened:
            await connection.close()
        writer = self.__dict__.pop("_thread_writer", None)
        if writer is not None:
            await writer.close()
        reader = self.__dict__.pop("_loop_reader", None)
        if reader is not None:
            reader.close()

    def thread_writer(self) -> ThreadWriter:
        """The engine's :class:`ThreadWriter`, opened on first use."""
        if "_thread_writer" not in self.__dict__:
            self.__dict__["_thread_writer"] = ThreadWriter(self.connection_kwargs["database"],
                                                           self.connection_kwargs.get("timeout", 30))
        return self.__dict__["_thread_writer"]

    def loop_reader(self) -> LoopReader:
        """The engine's :class:`LoopReader`, opened on first use."""
        if "_loop_reader" not in self.__dict__:
            self.__dict__["_loop_reader"] = LoopReader(self.connection_kwargs)
        return self.__dict__["_loop_reader"]


T = TypeVar("T")


class LoopReader:
    """A read-only SQLite connection used on the event loop's own thread, for short indexed
    reads on hot paths (see :func:`read_raw`).

    A statement through aiosqlite is two hand-overs between threads, and under load each waits
    for the busy loop and the interpreter lock: the SMTP server's recipient lookup cost ~0.3 ms
    of CPU a message that way, ten times the query. Readers of a WAL database do not wait for
    writers; the short busy timeout keeps a rare wait (another connection recovering the WAL)
    from stalling the loop: :func:`read_raw` then goes through the engine instead.
    """

    BUSY_TIMEOUT = 0.05

    def __init__(self, connection_kwargs: dict[str, Any]):
        self._sqlite = sqlite3.connect(**{**connection_kwargs, "timeout": self.BUSY_TIMEOUT}, check_same_thread=False)
        self._sqlite.row_factory = _dict_factory
        self._sqlite.execute("PRAGMA query_only = 1")

    def fetch(self, sql: str, values: Iterable[Any]) -> list[dict[str, Any]]:
        """Rows of ``sql`` (``{}`` placeholders, as ``Table.raw``), as dicts."""
        return self._sqlite.execute(sql.replace("{}", "?"), tuple(values)).fetchall()

    def close(self) -> None:
        self._sqlite.close()


class ThreadWriter:
    """A SQLite connection of its own, in a thread of its own, for writes that come in batches.

    ``await writer.run(work)`` calls ``work(connection)`` (plain ``sqlite3``, ``?`` placeholders)
    in the thread, inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back if it raises): the whole
    transaction is one hand-over to the thread. Through the engine's connection each statement,
    the BEGIN and the COMMIT are one each, and under load every hand-over waits for the busy
    event loop and for the interpreter lock (the SMTP server's group commit paid ten times the
    transaction's own time so). Writers of the engine and this one take SQLite's write lock in
    turn (busy timeout), like two processes.
    """

    def __init__(self, path: str, timeout: float = 30):
        self.path = path
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._sqlite: sqlite3.Connection | None = None  # used in the executor's one thread only

    def _connection(self) -> sqlite3.Connection:
        if self._sqlite is None:
            connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            for pragma in CONNECTION_PRAGMAS:
                connection.execute(pragma)
            self._sqlite = connection
        return self._sqlite

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work(connection)`` in a transaction, its result or its exception."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._transaction, work)

    def _close_connection(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_connection)
        self._executor.shutdown(wait=True)


class _LeasedConnection:
    """The engine's writer connection as one transaction sees it: closing it ends the lease."""

    def __init__(self, connection: aiosqlite.Connection, lock: asyncio.Lock):
        object.__setattr__(self, "_connection", connection)
        object.__setattr__(self, "_lock", lock)

    def __getattr__(self, name: str):
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._connection, name, value)

    async def close(self) -> None:
        self._lock.release()


class PortalPostgresEngine(PostgresEngine):
    """PostgreSQL with an asyncpg pool per event loop, opened on first use.

    Piccolo connects anew for every query without a pool; a pool tied to one loop breaks when
    the same process runs work in another loop (the CLI's preparation, test clients).
    """

    def __init__(self, *args, **kwargs):
        self._pools: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        super().__init__(*args, **kwargs)

    @property
    def pool(self):
        try:
            return self._pools.get(asyncio.get_running_loop())
        except RuntimeError:
            return None

    @pool.setter
    def pool(self, value) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value

    async def _ensure_pool(self) -> None:
        if self.pool is None:
            self.pool = await asyncpg.create_pool(**self.config, min_size=1, max_size=10)

    async def run_querystring(self, querystring, in_pool: bool = True):
        await self._ensure_pool()
        return await super().run_querystring(querystring, in_pool)

    async def run_ddl(self, ddl: str, in_pool: bool = True):
        await self._ensure_pool()
        return await super().run_ddl(ddl, in_pool)

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PooledTransaction(engine=self, allow_nested=allow_nested)


class _PooledTransaction(PostgresTransaction):
    """Takes its connection from the loop's pool, opening the pool first if need be, so the
    connection goes back where it came from."""

    async def get_connection(self):
        await self.engine._ensure_pool()
        return await super().get_connection()


def _dict_factory(cursor, row) -> dict[str, Any]:
    return {column[0]: row[index] for index, column in enumerate(cursor.description)}


def make_engine(database_url: str | None, sqlite_path: Path) -> Engine:
    if database_url:
        return PortalPostgresEngine(config={"dsn": database_url})
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return PortalSQLiteEngine(path=str(sqlite_path), timeout=30)


def configure(engine: Engine, apps: Iterable[AppConfig]) -> None:
    """Bind every table of ``apps`` and Piccolo's own tables to ``engine``."""
    global DB, APP_REGISTRY
    DB = engine
    module_names = []
    for app in apps:
        for table in app.table_classes:
            table._meta.db = engine
        module_names.append(_app_module(app))
    APP_REGISTRY = AppRegistry(apps=module_names)
    from piccolo.apps.migrations.tables import Migration

    Migration._meta.db = engine


def _app_module(app: AppConfig) -> str:
    """Piccolo finds apps by importing ``<module>.APP_CONFIG``; give it a module per app."""
    name = f"portal._piccolo_apps.{app.app_name}.piccolo_app"
    module = ModuleType(name)
    module.APP_CONFIG = app
    sys.modules[name] = module
    return name


def current_engine() -> Engine:
    if DB is None:
        raise RuntimeError("portal.db.configure() has not been called")
    return DB


def write_transaction():
    """A transaction that takes the write lock at once (``BEGIN IMMEDIATE`` on SQLite).

    Use it for every read-then-write sequence, so that concurrent requests wait for each
    other instead of failing with "database is locked" halfway through.
    """
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def thread_writer() -> ThreadWriter | None:
    """The current engine's :class:`ThreadWriter` on SQLite; None on PostgreSQL, where each
    statement is a message to the server from the event loop itself, with no thread to cross."""
    engine = current_engine()
    return engine.thread_writer() if isinstance(engine, PortalSQLiteEngine) else None


async def read_raw(table: type[Table], sql: str, *values: Any) -> list[dict[str, Any]]:
    """``await table.raw(sql, *values)`` for a short read that runs often: on SQLite run on the
    event loop's own thread (:class:`LoopReader`, no hand-over to another thread), falling back
    to the engine when the database is busy; inside a transaction (which must see its own
    writes) and on PostgreSQL the engine's as usual."""
    engine = table._meta.db
    if isinstance(engine, PortalSQLiteEngine) and engine.current_transaction.get() is None:
        try:
            return engine.loop_reader().fetch(sql, values)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):  # primary code
                raise
    return await table.raw(sql, *values)


async def close_engine() -> None:
    engine = DB
    if isinstance(engine, PortalSQLiteEngine):
        await engine.close()
    elif isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


def app_config(app_name: str, tables: list[type[Table]], migrations_dir: Path | str) -> AppConfig:
    return AppConfig(
        app_name=app_name,
        migrations_folder_path=str(migrations_dir),
        table_classes=list(tables),
    )
