"""The procrastinate App, its tasks, and deferring jobs inside a stage's transaction.

Every replica imports this module and runs ``procrastinate --app=pipeline.queue.app
worker``. This module owns every queueing-lock string: a lock names the unit of
work (``ingest:feed:{id}``), never a time, so a second defer of the same work
while one is waiting is a no-op.

procrastinate talks to Postgres through psycopg; the stages use asyncpg. A stage
defers its downstream job with ``defer(conn, ...)``, which calls procrastinate's
SQL defer function on the stage's own asyncpg connection, inside a savepoint: the
job exists if and only if the stage's writes committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import procrastinate
import psycopg_pool
import structlog

from pipeline import db, errors, logs, settings, sqlfiles
from pipeline.feeds import fetch
from pipeline.stages import benchmark as benchmark_stage
from pipeline.stages import ingest as ingest_stage
from pipeline.stages import insight as insight_stage
from pipeline.stages import match as match_stage

if not structlog.is_configured():  # `procrastinate --app=pipeline.queue.app worker` starts here
    logs.configure(fmt=settings.get().log_format, level=settings.get().log_level)
log = structlog.get_logger(__name__)
Q = sqlfiles.load("queue")
QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"


class RetryLater(Exception):
    """A transient failure: the job is retried with backoff."""


# -- connection to the database, resolved lazily (the embedded server starts on first use) --

_dsn: str | None = None
_pool: asyncpg.Pool | None = None


def dsn() -> str:
    """DATABASE_URL, or the embedded server's URL (starting it if needed)."""
    global _dsn
    if _dsn is None:
        conf = settings.get()
        _dsn = conf.database_url or db.embedded_dsn(conf.data_dir)
    return _dsn


def use_dsn(value: str) -> None:
    """Point this process at a database (tests, the demo). Closes nothing: call before use."""
    global _dsn, _pool
    _dsn, _pool = value, None


def use_pool(value: asyncpg.Pool) -> None:
    """Hand this process a ready pool (the bench's, which counts statements)."""
    global _pool
    _pool = value


async def pool() -> asyncpg.Pool:
    global _pool
    if _pool is None:
        conf = settings.get()
        _pool = await db.create_pool(
            dsn(), min_size=conf.pool_min_size, max_size=conf.pool_max_size
        )
    return _pool


async def close_pool() -> None:
    global _pool
    if _pool is not None:
        await _pool.close()
        _pool = None


@asynccontextmanager
async def connection() -> AsyncIterator[asyncpg.Connection]:
    async with (await pool()).acquire() as conn:
        yield conn


def _psycopg_pool(**kwargs: Any) -> psycopg_pool.AsyncConnectionPool:
    return psycopg_pool.AsyncConnectionPool(conninfo=dsn(), **kwargs)


def _worker_defaults() -> procrastinate.app.WorkerOptions:
    conf = settings.get()
    return {
        "concurrency": conf.worker_concurrency,
        # SIGTERM: stop taking jobs, let the running ones finish within this many
        # seconds, then cancel them; a cancelled job is retried (see _Retry).
        "shutdown_graceful_timeout": conf.shutdown_timeout,
        "update_heartbeat_interval": conf.worker_heartbeat_interval,
        "stalled_worker_timeout": conf.stalled_after,
    }


app = procrastinate.App(
    connector=procrastinate.PsycopgConnector(pool_factory=_psycopg_pool, min_size=1, max_size=4),
    # Every worker imports the periodic tasks (scheduler, stalled jobs, retention).
    import_paths=["pipeline.scheduler"],
    worker_defaults=_worker_defaults(),
)


# -- deferring inside a transaction --


async def defer(
    conn: asyncpg.Connection,
    task_name: str,
    *,
    args: dict[str, Any],
    queueing_lock: str | None = None,
    lock: str | None = None,
    priority: int = 0,
    queue: str = "default",
    delay: float = 0.0,
) -> int | None:
    """Defer a job on ``conn`` (in its transaction, if any). None: already queued.

    The insert runs in a savepoint so that the queueing-lock unique violation,
    which means "an identical job is already waiting", leaves the caller's
    transaction usable.
    """
    scheduled_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay) if delay > 0 else None
    try:
        async with conn.transaction():
            job_id: int = await conn.fetchval(
                Q["defer_job"], queue, task_name, priority, lock, queueing_lock,
                args, scheduled_at,
            )  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != QUEUEING_LOCK_INDEX:
            raise
        log.debug("queue.already_queued", task=task_name, queueing_lock=queueing_lock)
        return None
    return job_id


def ingest_lock(feed_id: int) -> str:
    return f"ingest:feed:{feed_id}"


def match_lock(dealer_id: int) -> str:
    return f"match:dealer:{dealer_id}"


BENCHMARK_LOCK = "benchmark"


def insight_lock(dealer_id: int) -> str:
    return f"insight:dealer:{dealer_id}"


async def defer_ingest(conn: asyncpg.Connection, feed_id: int, *, priority: int = 0) -> int | None:
    lock = ingest_lock(feed_id)
    return await defer(
        conn, "ingest", args={"feed_id": feed_id}, queueing_lock=lock, lock=lock,
        priority=priority, queue="ingest",
    )  # fmt: skip


async def defer_match(conn: asyncpg.Connection, dealer_id: int) -> int | None:
    lock = match_lock(dealer_id)
    return await defer(
        conn, "match", args={"dealer_id": dealer_id}, queueing_lock=lock, lock=lock,
        queue="match", delay=settings.get().match_defer_delay,
    )  # fmt: skip


async def defer_benchmark(conn: asyncpg.Connection) -> int | None:
    """One waiting benchmark job at most: the dirty products are in the database."""
    return await defer(
        conn, "benchmark", args={}, queueing_lock=BENCHMARK_LOCK, lock=BENCHMARK_LOCK,
        queue="benchmark", delay=settings.get().benchmark_defer_delay,
    )  # fmt: skip


async def defer_insight(conn: asyncpg.Connection, dealer_id: int) -> int | None:
    lock = insight_lock(dealer_id)
    return await defer(
        conn, "insight", args={"dealer_id": dealer_id}, queueing_lock=lock, lock=lock,
        queue="insight",
    )  # fmt: skip


# -- tasks: thin; acquire a connection, run the stage, the stage defers downstream --


def ingest_options() -> ingest_stage.IngestOptions:
    conf = settings.get()
    limits = fetch.FetchLimits(
        connect_timeout=conf.fetch_connect_timeout,
        read_timeout=conf.fetch_read_timeout,
        total_timeout=conf.fetch_total_timeout,
        max_bytes=conf.fetch_max_bytes,
        retries=conf.fetch_retries,
        backoff_base=conf.fetch_backoff_base,
        backoff_max=conf.fetch_backoff_max,
    )
    return ingest_stage.IngestOptions(
        limits=limits, max_columns=conf.parse_max_columns, batch_rows=conf.copy_batch_rows,
        failing_after=conf.feed_failing_after, backoff_cap=conf.feed_backoff_cap,
    )  # fmt: skip


class _Retry(procrastinate.RetryStrategy):
    """Transient errors are retried with backoff; a job cancelled because its worker
    is shutting down is handed back at once, whatever its attempts."""

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> procrastinate.retry.RetryDecision | None:
        if isinstance(exception, asyncio.CancelledError):
            return procrastinate.retry.RetryDecision(retry_in={"seconds": 0})
        if self.max_attempts == 0:  # procrastinate reads 0 as "no limit"; ours means no retry
            return None
        return super().get_retry_decision(exception=exception, job=job)


_RETRY = _Retry(
    max_attempts=settings.get().job_retry_attempts,
    wait=int(settings.get().job_retry_wait),
    exponential_wait=2,
    # A lost connection or an administrator's shutdown or termination of the backend;
    # asyncpg reports a connection its pool dropped under us as an InterfaceError.
    retry_exceptions={
        RetryLater,
        asyncpg.PostgresConnectionError,
        asyncpg.exceptions.OperatorInterventionError,
        asyncpg.InterfaceError,
        # A deadlock or serialization failure: the transaction was rolled back whole.
        asyncpg.exceptions.TransactionRollbackError,
        ConnectionError,
        OSError,
    },
)


@app.task(name="ingest", queue="ingest", pass_context=True, retry=_RETRY)
async def ingest(context: procrastinate.JobContext, feed_id: int) -> dict[str, Any]:
    job = context.job
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(job_id=job.id, task="ingest", feed_id=feed_id)
    try:
        async with connection() as conn:
            result = await ingest_stage.run(
                conn, feed_id=feed_id, options=ingest_options(), downstream=defer_match,
                job_id=job.id, attempt=job.attempts + 1,
            )  # fmt: skip
    except errors.PipelineError as exc:
        if exc.retryable:
            raise RetryLater(str(exc)) from exc
        raise
    return {"run_id": result.run_id, "status": result.status, "changed": result.changed}


def match_options() -> match_stage.MatchOptions:
    conf = settings.get()
    return match_stage.MatchOptions(
        accept_score=conf.match_accept_score,
        review_score=conf.match_review_score,
        margin=conf.match_margin,
    )


def benchmark_options() -> benchmark_stage.BenchmarkOptions:
    conf = settings.get()
    return benchmark_stage.BenchmarkOptions(
        page_size=conf.benchmark_page_size,
        lookback_days=conf.benchmark_lookback_days,
        trim_min_points=conf.benchmark_trim_min_points,
    )


def insight_options() -> insight_stage.InsightOptions:
    conf = settings.get()
    return insight_stage.InsightOptions(
        medium_pct=conf.insight_medium_pct,
        medium_sellers=conf.insight_medium_sellers,
        high_pct=conf.insight_high_pct,
        high_sellers=conf.insight_high_sellers,
        scarce_sellers=conf.insight_scarce_sellers,
        carriers=conf.insight_carriers,
        not_carried=conf.insight_not_carried,
    )


@app.task(name="match", queue="match", pass_context=True, retry=_RETRY)
async def match(context: procrastinate.JobContext, dealer_id: int) -> dict[str, Any]:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(job_id=context.job.id, task="match", dealer_id=dealer_id)
    async with connection() as conn:
        result = await match_stage.run(
            conn, dealer_id=dealer_id, options=match_options(),
            defer_benchmark=defer_benchmark, defer_insight=defer_insight,
        )  # fmt: skip
    return {"dealer_id": dealer_id, "created": result.created, "unmatched": result.unmatched}


@app.task(name="benchmark", queue="benchmark", pass_context=True, retry=_RETRY)
async def benchmark(context: procrastinate.JobContext) -> dict[str, Any]:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(job_id=context.job.id, task="benchmark")
    async with connection() as conn:
        result = await benchmark_stage.run(
            conn, options=benchmark_options(), defer_insight=defer_insight
        )
    return {"products": result.products, "changed": result.changed, "dealers": result.dealers}


@app.task(name="insight", queue="insight", pass_context=True, retry=_RETRY)
async def insight(context: procrastinate.JobContext, dealer_id: int) -> dict[str, Any]:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        job_id=context.job.id, task="insight", dealer_id=dealer_id
    )
    async with connection() as conn:
        result = await insight_stage.run(conn, dealer_id=dealer_id, options=insight_options())
    return {"dealer_id": dealer_id, "created": result.created, "resolved": result.resolved}
