"""Durable background jobs: a jobs table and a worker (in-process by default, or `portal worker`).

``enqueue(kind, payload)`` inside the transaction that causes the work, so the work is never
lost and never runs for a change that was rolled back. Handlers are registered by kind
(``register_task_handlers``); a handler raises ``RetryLater`` to be tried again after a delay,
any other exception retries with exponential back-off until ``max_attempts``, then the job is
``failed`` and the handler's ``on_failure`` (if it has one) is called. The worker also queues
the jobs of durable daily, weekly and monthly schedules (``portal.jobs.schedule``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from portal.db import current_engine, write_transaction
from portal.jobs.tables import QueuedJob

log = logging.getLogger("portal.jobs")
LEASE = timedelta(minutes=5)
POLL_SECONDS = 1.0
# Schedules start cycles at a whole hour: looking twice a minute is soon enough.
SCHEDULE_POLL_SECONDS = 30.0

Handler = Callable[[Any, dict], Awaitable[None]]


class RetryLater(Exception):
    """Try the job again after ``delay`` seconds; ``reason`` is kept as its last error."""

    def __init__(self, delay: float, reason: str = ""):
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


@dataclass(frozen=True)
class TaskHandler:
    run: Handler
    max_attempts: int = 8
    # Called once when the job has failed for good: (portal, payload, error message).
    on_failure: Callable[[Any, dict, str], Awaitable[None]] | None = None


def now() -> datetime:
    return datetime.now(timezone.utc)


async def enqueue(kind: str, payload: dict | None = None, *, delay: float = 0) -> int:
    """Queue a job; call it inside the caller's transaction so both commit or neither does."""
    rows = await QueuedJob.insert(
        QueuedJob(kind=kind, payload=payload or {}, run_at=now() + timedelta(seconds=delay))
    ).returning(QueuedJob.id)
    _wake_workers()
    return rows[0]["id"]


_wakers: set[asyncio.Event] = set()


def _wake_workers() -> None:
    for event in list(_wakers):
        event.set()


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt``: 30 s, 1 min, 2 min, … capped at 2 h, with jitter."""
    base = min(30 * 2 ** (attempt - 1), 7200)
    return base * random.uniform(0.9, 1.1)


async def claim_next() -> dict | None:
    """Take one due job (or one whose worker died: its lease ran out) and lease it to us."""
    moment = now()
    if isinstance(current_engine(), PostgresEngine):
        rows = await QueuedJob.raw(
            "UPDATE core_job SET status = 'running', attempts = attempts + 1, locked_until = {} "
            "WHERE id = (SELECT id FROM core_job WHERE (status = 'queued' AND run_at <= {}) "
            "OR (status = 'running' AND locked_until < {}) ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
            "RETURNING *",
            moment + LEASE, moment, moment,
        )
        return rows[0] if rows else None
    async with write_transaction():
        row = await QueuedJob.select().where(
            ((QueuedJob.status == "queued") & (QueuedJob.run_at <= moment))
            | ((QueuedJob.status == "running") & (QueuedJob.locked_until < moment))
        ).order_by(QueuedJob.run_at).first()
        if row is None:
            return None
        await QueuedJob.update(
            {QueuedJob.status: "running", QueuedJob.attempts: row["attempts"] + 1, QueuedJob.locked_until: moment + LEASE}
        ).where(QueuedJob.id == row["id"])
        row["attempts"] += 1
        return row


class Worker:
    """Runs queued jobs with their handlers, and periodic jobs on their schedule."""

    def __init__(self, portal, handlers: dict[str, TaskHandler], periodic: list | None = None):
        self.portal = portal
        self.handlers = handlers
        self.periodic = periodic or []
        self._next_periodic: dict[str, datetime] = {}
        self._next_schedule_poll = 0.0
        self._wake = asyncio.Event()

    async def run_one(self) -> bool:
        """Run one due job; False when there was none."""
        job = await claim_next()
        if job is None:
            return False
        if isinstance(job["payload"], str):
            job["payload"] = json.loads(job["payload"] or "{}")
        handler = self.handlers.get(job["kind"])
        if handler is None:
            await self._finish(job, "failed", f"no handler for {job['kind']!r}")
            return True
        try:
            await handler.run(self.portal, job["payload"])
        except RetryLater as retry:
            await self._retry(job, handler, retry.reason, retry.delay)
        except Exception as error:  # a failing job must not stop the worker
            log.warning("job %s (%s) failed: %s", job["id"], job["kind"], error, exc_info=True)
            await self._retry(job, handler, f"{type(error).__name__}: {error}", backoff(job["attempts"]))
        else:
            await self._finish(job, "done", "")
        return True

    async def _retry(self, job: dict, handler: TaskHandler, reason: str, delay: float) -> None:
        if job["attempts"] >= handler.max_attempts:
            await self._finish(job, "failed", reason)
            if handler.on_failure:
                await handler.on_failure(self.portal, job["payload"], reason)
            return
        await QueuedJob.update(
            {QueuedJob.status: "queued", QueuedJob.run_at: now() + timedelta(seconds=delay),
             QueuedJob.locked_until: None, QueuedJob.last_error: reason[:2000]}
        ).where(QueuedJob.id == job["id"])

    async def _finish(self, job: dict, status: str, error: str) -> None:
        await QueuedJob.update(
            {QueuedJob.status: status, QueuedJob.finished_at: now(), QueuedJob.locked_until: None,
             QueuedJob.last_error: error[:2000]}
        ).where(QueuedJob.id == job["id"])

    async def run_periodic(self) -> None:
        moment = now()
        for job in self.periodic:
            due = self._next_periodic.get(job.name)
            if due is None:
                self._next_periodic[job.name] = moment + timedelta(seconds=job.every_seconds)
                continue
            if due <= moment:
                self._next_periodic[job.name] = moment + timedelta(seconds=job.every_seconds)
                try:
                    await job.run(self.portal)
                except Exception:
                    log.exception("periodic job %s failed", job.name)

    async def queue_schedules(self) -> None:
        """Queue the jobs of the schedules whose cycle has started, at most every SCHEDULE_POLL_SECONDS."""
        from portal.jobs.schedule import queue_due_schedules

        moment = asyncio.get_running_loop().time()
        if moment < self._next_schedule_poll:
            return
        self._next_schedule_poll = moment + SCHEDULE_POLL_SECONDS
        await queue_due_schedules()

    async def run_until_idle(self, limit: int = 1000) -> int:
        """Run due jobs until none is left (tests and `portal worker --once`); returns how many ran."""
        count = 0
        while count < limit and await self.run_one():
            count += 1
        return count

    async def run_forever(self, stop: asyncio.Event) -> None:
        _wakers.add(self._wake)
        try:
            while not stop.is_set():
                try:
                    await self.queue_schedules()
                    await self.run_until_idle(limit=100)
                    await self.run_periodic()
                except Exception:
                    log.exception("worker loop error; continuing")
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                except asyncio.TimeoutError:
                    pass
        finally:
            _wakers.discard(self._wake)
