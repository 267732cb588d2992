"""Several identical worker processes on one database: no work done twice, none lost.

Every worker here is the production command (``procrastinate worker``) in its
own process, fetching feeds from a local aiohttp server in this process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from aiohttp import web

from tests import feed_server
from tests.acceptance.workers import Worker, until
from tests.factories import csv_text, sku

ROWS = 20


def body(feed: int) -> bytes:
    return csv_text([sku(n, sku=f"F{feed}-{n}") for n in range(1, ROWS + 1)]).encode()


def by_path(handler: feed_server.Handler | None = None) -> feed_server.Handler:
    """``/feed/N`` answers feed N's CSV (through ``handler`` if given)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if handler is not None:
            return await handler(request)
        return web.Response(body=body(int(request.path.rsplit("/", 1)[-1])))

    return handle


async def add_feeds(
    conn: asyncpg.Connection, root: str, n: int, *, interval: float, due_in: float = 0
) -> list[int]:
    """``n`` feeds of one dealer, first due on a whole second ``due_in`` seconds from now."""
    dealer = await conn.fetchval("INSERT INTO dealers (name) VALUES ('Replica Ammo') RETURNING id")
    rows = await conn.fetch(
        "INSERT INTO feeds (dealer_id, name, source, format, poll_interval, next_run_at) "
        "SELECT $1, 'feed ' || i, $2 || '/feed/' || i, 'csv', make_interval(secs => $3), "
        "       date_trunc('second', now()) + make_interval(secs => $4) "
        "FROM generate_series(1, $5) i RETURNING id",
        dealer, root, interval, due_in, n,
    )  # fmt: skip
    return [r["id"] for r in rows]


@asynccontextmanager
async def workers(n: int, dsn: str, tmp: Path, **settings: str) -> AsyncIterator[list[Worker]]:
    started = [Worker(dsn, tmp / f"worker-{i}.log", **settings) for i in range(n)]
    try:
        yield started
    finally:
        for w in started:
            if w.process.poll() is None:
                w.kill()


async def run_statuses(conn: asyncpg.Connection, feed: int) -> list[str]:
    rows = await conn.fetch("SELECT status FROM feed_runs WHERE feed_id = $1 ORDER BY id", feed)
    return [r["status"] for r in rows]


async def test_three_workers_ingest_every_feed_once_per_interval(
    conn: asyncpg.Connection, dsn: str, tmp_path: Path
) -> None:
    interval = 2.0
    async with feed_server.serve(by_path()) as server:
        ids = await add_feeds(conn, server.root, 50, interval=interval, due_in=1)
        first_due = await conn.fetchval("SELECT min(next_run_at) FROM feeds")
        duplicates: list[object] = []
        async with workers(3, dsn, tmp_path) as started:
            loop = asyncio.get_running_loop()
            stop_at = loop.time() + 4 * interval + 1.5
            while loop.time() < stop_at:
                duplicates += await conn.fetch(
                    "SELECT args->>'feed_id' AS feed, count(*) FROM procrastinate_jobs "
                    "WHERE task_name = 'ingest' AND status IN ('todo', 'doing') "
                    "GROUP BY 1 HAVING count(*) > 1"
                )
                await asyncio.sleep(0.05)
            # Stop scheduling, let what was deferred finish, then stop the replicas.
            ended = await conn.fetchval("UPDATE feeds SET status = 'PAUSED' RETURNING now()")
            await until(lambda: idle(conn), within=30)
            codes = [await w.terminate() for w in started]

    assert duplicates == []
    assert codes == [0, 0, 0]
    due_times = int((ended - first_due).total_seconds() // interval) + 1
    runs = await conn.fetch(
        "SELECT feed_id, count(*) AS runs, count(DISTINCT job_id) AS jobs, "
        "       bool_and(status IN ('SUCCEEDED', 'UNCHANGED')) AS ok "
        "FROM feed_runs GROUP BY feed_id"
    )
    assert {r["feed_id"] for r in runs} == set(ids)
    for r in runs:
        assert r["ok"] and r["runs"] == r["jobs"]  # no retries, nothing ran twice
        # The due time right at the pause may not have been claimed yet.
        assert due_times - 1 <= r["runs"] <= due_times, (r, due_times)
    assert due_times >= 4
    ticks = await conn.fetchval(
        "SELECT count(*) FROM (SELECT args->>'timestamp' FROM procrastinate_jobs "
        "WHERE task_name = 'scheduler.tick' GROUP BY 1 HAVING count(*) > 1) t"
    )
    assert ticks == 0  # one tick job per second, whatever the number of replicas
    assert await conn.fetchval("SELECT count(*) FROM dealer_skus") == 50 * ROWS


async def idle(conn: asyncpg.Connection) -> bool:
    busy = await conn.fetchval(
        "SELECT count(*) FROM procrastinate_jobs "
        "WHERE status IN ('todo', 'doing') AND task_name NOT LIKE 'scheduler.%'"
    )
    return busy == 0


async def test_a_worker_killed_mid_ingest_costs_only_a_retry(
    conn: asyncpg.Connection, dsn: str, tmp_path: Path
) -> None:
    async with feed_server.serve(by_path(feed_server.slow(body(1), 3))) as server:
        (feed,) = await add_feeds(conn, server.root, 1, interval=86400)
        async with workers(1, dsn, tmp_path) as (first,):
            await until(lambda: running(conn, feed))
            first.kill()
            async with workers(1, dsn, tmp_path) as (second,):
                await until(lambda: succeeded(conn, feed), within=40)
                assert await second.terminate() == 0

    assert await run_statuses(conn, feed) == ["FAILED", "SUCCEEDED"]
    error = await conn.fetchval("SELECT error FROM feed_runs WHERE status = 'FAILED'")
    assert "no heartbeat" in error or "without recording" in error
    jobs = await conn.fetch(
        "SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name = 'ingest'"
    )
    assert [j["status"] for j in jobs] == ["succeeded"]  # one job, handed to the second worker
    assert jobs[0]["attempts"] >= 1
    assert (
        await conn.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'") == 0
    )
    skus = await conn.fetchrow("SELECT count(*), count(DISTINCT sku_hash) FROM dealer_skus")
    assert tuple(skus) == (ROWS, ROWS)


async def running(conn: asyncpg.Connection, feed: int) -> bool:
    status = await conn.fetchval(
        "SELECT status FROM feed_runs WHERE feed_id = $1 ORDER BY id DESC LIMIT 1", feed
    )
    return bool(status == "RUNNING")


async def succeeded(conn: asyncpg.Connection, feed: int) -> bool:
    return "SUCCEEDED" in await run_statuses(conn, feed)


async def test_sigterm_lets_the_running_ingest_finish_and_exits_zero(
    conn: asyncpg.Connection, dsn: str, tmp_path: Path
) -> None:
    async with feed_server.serve(by_path(feed_server.slow(body(1), 1.5))) as server:
        (feed,) = await add_feeds(conn, server.root, 1, interval=86400)
        async with workers(1, dsn, tmp_path) as (worker,):
            await until(lambda: running(conn, feed))
            code = await worker.terminate()

    assert code == 0
    assert await run_statuses(conn, feed) == ["SUCCEEDED"]
    job = await conn.fetchval(
        "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'ingest'"
    )
    assert job == "succeeded"


async def test_sigterm_past_the_grace_period_hands_the_job_back(
    conn: asyncpg.Connection, dsn: str, tmp_path: Path
) -> None:
    async with feed_server.serve(by_path(feed_server.slow(body(1), 20))) as server:
        (feed,) = await add_feeds(conn, server.root, 1, interval=86400)
        async with workers(1, dsn, tmp_path, shutdown_timeout="0.5") as (worker,):
            await until(lambda: running(conn, feed))
            code = await worker.terminate()

    assert code == 0
    assert await run_statuses(conn, feed) == ["FAILED"]
    error = await conn.fetchval("SELECT error FROM feed_runs")
    assert error.startswith("cancelled")
    job = await conn.fetchrow(
        "SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name = 'ingest'"
    )
    assert tuple(job) == ("todo", 1)  # handed back: the next worker takes it
    assert await conn.fetchval("SELECT count(*) FROM dealer_skus") == 0


async def test_a_killed_database_connection_is_retried_and_the_data_ends_correct(
    conn: asyncpg.Connection, dsn: str, tmp_path: Path
) -> None:
    slow_then_fast = feed_server.sequence(feed_server.slow(body(1), 1.5), by_path())
    async with feed_server.serve(by_path(slow_then_fast)) as server:
        (feed,) = await add_feeds(conn, server.root, 1, interval=86400)
        async with workers(1, dsn, tmp_path) as (worker,):
            await until(lambda: running(conn, feed))
            killed = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'pipeline-stages'"
            )
            await until(lambda: succeeded(conn, feed), within=30)
            assert await worker.terminate() == 0

    assert killed >= 1
    assert await run_statuses(conn, feed) == ["FAILED", "SUCCEEDED"]
    skus = await conn.fetchrow("SELECT count(*), count(DISTINCT sku_hash) FROM dealer_skus")
    assert tuple(skus) == (ROWS, ROWS)


async def test_a_failing_feed_is_marked_failing_and_recovers_with_its_server(
    conn: asyncpg.Connection, dsn: str, tmp_path: Path
) -> None:
    broken = feed_server.status(500)
    flaky = feed_server.sequence(broken, broken, broken, by_path())
    async with feed_server.serve(by_path(flaky)) as server:
        (feed,) = await add_feeds(conn, server.root, 1, interval=1)
        statuses: set[str] = set()

        async def recovered() -> bool:
            row = await conn.fetchrow("SELECT status, failure_count FROM feeds WHERE id = $1", feed)
            statuses.add(row["status"])
            return await succeeded(conn, feed)

        settings = {"job_retry_attempts": "0", "feed_backoff_cap": "1.5"}
        async with workers(1, dsn, tmp_path, **settings) as (worker,):
            await until(recovered, within=40)
            assert await worker.terminate() == 0

    assert "FAILING" in statuses
    assert (await run_statuses(conn, feed))[:4] == ["FAILED", "FAILED", "FAILED", "SUCCEEDED"]
    row = await conn.fetchrow("SELECT status, failure_count FROM feeds WHERE id = $1", feed)
    assert tuple(row) == ("ACTIVE", 0)
    assert await conn.fetchval("SELECT count(*) FROM dealer_skus") == ROWS
