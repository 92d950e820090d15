"""Durable background jobs: enqueue in the caller's transaction, retries, failure, lease expiry."""

import asyncio
from datetime import timedelta

import pytest

from portal.db import write_transaction
from portal.jobs import RetryLater, TaskHandler, Worker, claim_next, enqueue, now
from portal.jobs.tables import QueuedJob


@pytest.fixture
def worker_of(app):
    def factory(**handlers):
        return Worker(app.state.portal, handlers)

    return factory


async def test_job_runs_once_and_is_done(app, worker_of):
    seen = []

    async def handle(portal, payload):
        seen.append(payload)

    await enqueue("test.echo", {"n": 1})
    worker = worker_of(**{"test.echo": TaskHandler(handle)})
    assert await worker.run_until_idle() == 1
    assert seen == [{"n": 1}]
    row = await QueuedJob.select().first()
    assert row["status"] == "done" and row["attempts"] == 1
    assert await worker.run_until_idle() == 0


async def test_job_of_a_rolled_back_transaction_never_exists(app):
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await enqueue("test.echo", {"n": 2})
            raise RuntimeError("the cause failed")
    assert await QueuedJob.count() == 0


async def test_retry_later_reschedules_with_the_reason(app, worker_of):
    async def handle(portal, payload):
        raise RetryLater(600, "451 try again later")

    await enqueue("test.relay")
    await worker_of(**{"test.relay": TaskHandler(handle)}).run_until_idle()
    row = await QueuedJob.select().first()
    assert row["status"] == "queued" and row["last_error"] == "451 try again later"
    assert row["run_at"] > now() + timedelta(seconds=500)


async def test_job_fails_for_good_after_max_attempts_and_reports(app, worker_of):
    failures = []

    async def handle(portal, payload):
        raise ValueError("550 no such user")

    async def on_failure(portal, payload, reason):
        failures.append((payload, reason))

    await enqueue("test.bounce", {"to": "x@example.org"})
    worker = worker_of(**{"test.bounce": TaskHandler(handle, max_attempts=2, on_failure=on_failure)})
    await worker.run_until_idle()
    await QueuedJob.update({QueuedJob.run_at: now()}).where(QueuedJob.id > 0)
    await worker.run_until_idle()
    row = await QueuedJob.select().first()
    assert row["status"] == "failed" and row["attempts"] == 2
    assert failures == [({"to": "x@example.org"}, "ValueError: 550 no such user")]


async def test_job_of_a_dead_worker_is_taken_again_when_its_lease_ends(app):
    await enqueue("test.echo")
    first = await claim_next()
    assert first is not None and await claim_next() is None
    await QueuedJob.update({QueuedJob.locked_until: now() - timedelta(seconds=1)}).where(QueuedJob.id == first["id"])
    again = await claim_next()
    assert again["id"] == first["id"] and again["attempts"] == 2


async def test_concurrent_workers_never_take_the_same_job(app):
    for n in range(20):
        await enqueue("test.echo", {"n": n})
    claimed = await asyncio.gather(*[claim_next() for _ in range(25)])
    ids = [job["id"] for job in claimed if job]
    assert len(ids) == 20 and len(set(ids)) == 20


async def test_unknown_kind_fails_instead_of_looping(app, worker_of):
    await enqueue("test.unknown")
    await worker_of().run_until_idle()
    row = await QueuedJob.select().first()
    assert row["status"] == "failed" and "no handler" in row["last_error"]


def _plugin_with_handler(name: str, kind: str, seen: list):
    from types import ModuleType

    from portal.hookspecs import hookimpl

    module = ModuleType(name)

    async def handle(portal, payload):
        seen.append(payload)

    @hookimpl
    def register_task_handlers(portal):
        return {kind: TaskHandler(handle)}

    module.register_task_handlers = register_task_handlers
    return module


async def test_inline_worker_runs_a_plugins_job_without_being_asked(make_app):
    from litestar.testing import AsyncTestClient

    seen: list = []
    app = make_app(plugins=[], plugin_modules={"jobber": _plugin_with_handler("jobber", "jobber.ping", seen)}, worker="inline")
    async with AsyncTestClient(app):
        await enqueue("jobber.ping", {"hello": "世界"})
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.05)
    assert seen == [{"hello": "世界"}]


def test_task_kind_must_carry_the_plugins_name(make_app):
    with pytest.raises(ValueError, match="must start with"):
        make_app(plugins=[], plugin_modules={"jobber": _plugin_with_handler("jobber", "other.ping", [])})
