"""portal.db.read_raw: a short read on the event loop's own thread on SQLite, the engine's
everywhere else; what it returns is what ``Table.raw`` returns."""

import sqlite3
import time

import pytest

from portal.accounts.services import UnitForm, create_unit
from portal.accounts.tables import Unit
from portal.db import LoopReader, PortalSQLiteEngine, current_engine, read_raw, write_transaction

UNITS = "SELECT id, code, name FROM core_unit WHERE code IN ({}, {}) ORDER BY code"


async def test_rows_are_those_of_table_raw_and_a_commit_is_seen_at_once(app):
    await create_unit(None, UnitForm("清水县", "qingshui", "county", None, "", "清"))
    await create_unit(None, UnitForm("白沙县", "baisha", "county", None, "", "白"))
    rows = await read_raw(Unit, UNITS, "qingshui", "baisha")
    assert rows == await Unit.raw(UNITS, "qingshui", "baisha")
    assert [(r["code"], r["name"]) for r in rows] == [("baisha", "白沙县"), ("qingshui", "清水县")]
    await Unit.update({Unit.name: "白沙镇"}).where(Unit.code == "baisha")
    assert (await read_raw(Unit, UNITS, "qingshui", "baisha"))[0]["name"] == "白沙镇"


async def test_inside_a_transaction_its_own_writes_are_seen(app):
    async with write_transaction():
        await create_unit(None, UnitForm("未提交县", "weitijiao", "county", None, "", "未"))
        rows = await read_raw(Unit, UNITS, "weitijiao", "none")
    assert [r["code"] for r in rows] == ["weitijiao"]


async def test_a_bad_statement_raises_as_table_raw_does(app):
    with pytest.raises(Exception, match="no_such_column"):
        await read_raw(Unit, "SELECT no_such_column FROM core_unit")


@pytest.fixture
def locked_reader(tmp_path):
    """A LoopReader of a database that another connection holds locked (rollback journal,
    exclusive lock taken): every read is refused as busy, after the reader's short timeout."""
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    reader = LoopReader({"database": str(path), "isolation_level": None, "timeout": 30})
    yield reader
    reader.close()
    holder.execute("ROLLBACK")
    holder.close()


def test_the_loop_reader_gives_up_at_once_on_a_busy_database(locked_reader):
    started = time.perf_counter()
    with pytest.raises(sqlite3.OperationalError) as busy:
        locked_reader.fetch("SELECT x FROM t", [])
    assert busy.value.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    assert time.perf_counter() - started < 1  # not the engine's 30 s busy timeout


async def test_a_busy_database_is_read_through_the_engine(app, locked_reader, monkeypatch):
    engine = current_engine()
    if not isinstance(engine, PortalSQLiteEngine):
        pytest.skip("the loop's own reader is SQLite's")
    await create_unit(None, UnitForm("清水县", "qingshui", "county", None, "", "清"))
    monkeypatch.setattr(engine, "loop_reader", lambda: locked_reader)
    rows = await read_raw(Unit, UNITS, "qingshui", "none")
    assert [r["code"] for r in rows] == ["qingshui"]
