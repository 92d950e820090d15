"""portal.db.ThreadWriter: a whole SQLite transaction in one trip to a thread of its own."""

import pytest

from portal.accounts.tables import Unit
from portal.db import current_engine, thread_writer


@pytest.fixture
def writer(app):
    if thread_writer() is None:
        pytest.skip("PostgreSQL has no thread writer: statements go from the event loop itself")
    return thread_writer()


def _add_unit(code: str):
    def work(connection) -> int:
        return connection.execute("INSERT INTO core_unit (name, code, level, document_prefix) VALUES (?, ?, 'county', '') "
                                  "RETURNING id", (f"{code}县", code)).fetchone()[0]
    return work


async def test_the_work_is_committed_and_seen_by_the_engine(writer):
    unit_id = await writer.run(_add_unit("qingshui"))
    row = await Unit.select(Unit.code).where(Unit.id == unit_id).first()
    assert row == {"code": "qingshui"}


async def test_work_that_raises_leaves_nothing_and_the_writer_goes_on(writer):
    def half_then_fail(connection):
        _add_unit("banjie")(connection)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await writer.run(half_then_fail)
    assert await Unit.count().where(Unit.code == "banjie") == 0
    await writer.run(_add_unit("houlai"))
    assert await Unit.count().where(Unit.code == "houlai") == 1


async def test_work_runs_inside_a_transaction_and_its_result_comes_back(writer):
    def work(connection):
        return connection.in_transaction, connection.execute("SELECT count(*) FROM core_unit").fetchone()[0]

    in_transaction, units = await writer.run(work)
    assert in_transaction is True
    assert units == await Unit.count()


async def test_closing_the_engine_closes_the_writer(writer):
    await writer.run(_add_unit("guanmen"))
    engine = current_engine()
    await engine.close()
    assert thread_writer() is not writer
    assert await thread_writer().run(lambda c: c.execute("SELECT count(*) FROM core_unit WHERE code = 'guanmen'").fetchone()[0]) == 1
