"""Periodic work every replica registers: the feed scheduler, stalled jobs, retention.

Every replica runs the same worker with the same periodic tasks. procrastinate
defers a periodic job at most once per cron timestamp whatever the number of
workers (a unique row per task and timestamp); the tick itself then leads
through a transaction-scoped advisory lock and claims feeds with
``FOR UPDATE SKIP LOCKED``, so two ticks that overlap (a slow one and the next)
never claim the same feed, and every claimed feed's ingest is deferred in the
transaction that advances its schedule: a feed is advanced if and only if its
job exists.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import procrastinate
import structlog

from pipeline import queue, settings, sqlfiles

log = structlog.get_logger(__name__)
Q = sqlfiles.load("scheduler")


@dataclass(frozen=True, slots=True)
class TickResult:
    led: bool  # false: another replica was ticking
    claimed: int = 0
    deferred: int = 0
    already_queued: int = 0
    ms: float = 0.0


async def tick(
    conn: asyncpg.Connection, *, batch: int = 500, max_jitter: float = 5.0
) -> TickResult:
    """Defer the ingest of every due feed, ``batch`` feeds per transaction."""
    start = time.perf_counter()
    claimed = deferred = queued = 0
    while True:
        async with conn.transaction():
            if not await conn.fetchval(Q["lead_tick"]):
                log.info("scheduler.not_leader")
                return TickResult(led=False)
            rows = await conn.fetch(Q["claim_due"], batch, max_jitter)
            free = [r for r in rows if not r["queued"]]
            deferred += await _defer(conn, free)
        claimed += len(rows)
        queued += len(rows) - len(free)
        if len(rows) < batch:
            break
    result = TickResult(
        True, claimed, deferred, queued, round((time.perf_counter() - start) * 1000, 1)
    )
    if claimed:
        log.info(
            "scheduler.tick", claimed=claimed, deferred=deferred, already_queued=queued,
            ms=result.ms,
        )  # fmt: skip
    return result


async def _defer(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> int:
    """All the jobs in one statement; one by one only if a job appeared since the claim."""
    if not rows:
        return 0
    try:
        async with conn.transaction():
            await conn.execute(
                Q["defer_ingests"],
                [r["id"] for r in rows], [r["lock"] for r in rows],
                [r["tier"] for r in rows], [r["scheduled_at"] for r in rows],
            )  # fmt: skip
        return len(rows)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != queue.QUEUEING_LOCK_INDEX:
            raise
    # A run-now or a retry queued one of these feeds between the claim and now.
    done = 0
    for r in rows:
        done += await queue.defer_ingest(conn, r["id"], priority=r["tier"]) is not None
    return done


async def retry_stalled(
    conn: asyncpg.Connection, job_manager: procrastinate.manager.JobManager, *, after: float
) -> list[int]:
    """Hand back the jobs of workers silent for ``after`` seconds; fail their feed runs."""
    retried = []
    for job in await job_manager.get_stalled_jobs(seconds_since_heartbeat=after):
        assert job.id is not None
        try:
            await job_manager.retry_job(job)
        except procrastinate.exceptions.ProcrastinateException as exc:
            log.info("scheduler.stalled_job_not_retried", job_id=job.id, error=str(exc))
            continue
        retried.append(job.id)
    if retried:
        await conn.execute(Q["abandoned_runs"], retried)
        log.warning("scheduler.stalled_jobs_retried", job_ids=retried)
    return retried


@dataclass(frozen=True, slots=True)
class Retention:
    jobs: float  # ages in days
    feed_runs: float
    quarantine: float
    price_history: float
    batch: int = 5000


async def prune(conn: asyncpg.Connection, keep: Retention) -> dict[str, int]:
    """Delete what is older than its age, ``keep.batch`` rows per statement and commit."""
    deleted = {}
    plan = (
        ("jobs", "prune_jobs", keep.jobs),
        ("price_history", "prune_price_history", keep.price_history),
        ("quarantine", "prune_quarantine", keep.quarantine),
        ("feed_runs", "prune_feed_runs", keep.feed_runs),  # last: history points at runs
    )
    for name, query, days in plan:  # four tables, each in bounded batches, never row by row
        total = 0
        while True:
            status = await conn.execute(Q[query], days * 86400.0, keep.batch)
            n = int(status.rsplit(" ", 1)[-1])
            total += n
            if n < keep.batch:
                break
        deleted[name] = total
    if any(deleted.values()):
        log.info("retention.pruned", **deleted)
    return deleted


# -- the periodic tasks; procrastinate imports this module in every worker --

_conf = settings.get()


@queue.app.task(
    name="scheduler.tick", queue="scheduler", queueing_lock="scheduler.tick", pass_context=True
)
async def tick_task(context: procrastinate.JobContext, timestamp: int) -> dict[str, Any]:
    _bind(context, "scheduler.tick", timestamp)
    conf = settings.get()
    async with queue.connection() as conn:
        result = await tick(conn, batch=conf.scheduler_batch, max_jitter=conf.scheduler_max_jitter)
    return {"led": result.led, "claimed": result.claimed, "deferred": result.deferred}


@queue.app.task(
    name="scheduler.retry_stalled", queue="scheduler", queueing_lock="scheduler.retry_stalled",
    pass_context=True,
)  # fmt: skip
async def retry_stalled_task(context: procrastinate.JobContext, timestamp: int) -> dict[str, Any]:
    """Not a ``lock``ed task: a lock held by a dead worker's job would block it forever."""
    _bind(context, "scheduler.retry_stalled", timestamp)
    async with queue.connection() as conn:
        retried = await retry_stalled(
            conn, queue.app.job_manager, after=settings.get().stalled_after
        )
    return {"retried": retried}


@queue.app.task(
    name="scheduler.prune", queue="scheduler", queueing_lock="scheduler.prune", pass_context=True
)
async def prune_task(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:
    _bind(context, "scheduler.prune", timestamp)
    conf = settings.get()
    keep = Retention(
        jobs=conf.keep_jobs_days, feed_runs=conf.keep_feed_runs_days,
        quarantine=conf.keep_quarantine_days, price_history=conf.keep_price_history_days,
        batch=conf.retention_batch,
    )  # fmt: skip
    async with queue.connection() as conn:
        return await prune(conn, keep)


if _conf.periodic_tasks:
    queue.app.periodic(cron=_conf.scheduler_cron, periodic_id="tick")(tick_task)
    queue.app.periodic(cron=_conf.stalled_cron, periodic_id="stalled")(retry_stalled_task)
    queue.app.periodic(cron=_conf.retention_cron, periodic_id="retention")(prune_task)


def _bind(context: procrastinate.JobContext, task: str, timestamp: int) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        job_id=context.job.id, task=task,
        tick=dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(),
    )  # fmt: skip
