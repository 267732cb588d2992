"""Ingest through procrastinate's real worker: the job, its retry and its downstream job."""

from __future__ import annotations

import asyncpg

from pipeline import queue
from tests import feed_server
from tests.factories import csv_text, make_feed, sku


async def run_worker_until_idle() -> None:
    async with queue.app.open_async():
        await queue.app.run_worker_async(
            wait=False, install_signal_handlers=False, listen_notify=False
        )


async def jobs(conn: asyncpg.Connection) -> list[tuple[str, str, int]]:
    rows = await conn.fetch(
        "SELECT task_name, status::text, attempts FROM procrastinate_jobs ORDER BY id"
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_worker_ingests_the_feed_and_runs_the_deferred_match(
    conn: asyncpg.Connection,
) -> None:
    body = csv_text([sku(n) for n in range(1, 31)]).encode()
    async with feed_server.serve(feed_server.feed(body)) as server:
        feed_id = await make_feed(conn, server.url("/feed"))
        await queue.defer_ingest(conn, feed_id)
        await run_worker_until_idle()

    assert await conn.fetchval("SELECT count(*) FROM dealer_skus") == 30
    run = await conn.fetchrow("SELECT status, job_id, created FROM feed_runs")
    assert (run["status"], run["created"]) == ("SUCCEEDED", 30)
    done = [j[:2] for j in await jobs(conn)]
    assert done[:2] == [("ingest", "succeeded"), ("match", "succeeded")]
    assert {status for _, status in done} == {"succeeded"}  # benchmark and insight follow


async def test_a_second_defer_of_a_waiting_ingest_is_a_no_op(conn: asyncpg.Connection) -> None:
    feed_id = await make_feed(conn, "/nonexistent/feed.csv")

    first = await queue.defer_ingest(conn, feed_id)
    second = await queue.defer_ingest(conn, feed_id)

    assert first is not None and second is None
    locks = await conn.fetch("SELECT queueing_lock, lock FROM procrastinate_jobs")
    assert [tuple(r) for r in locks] == [(f"ingest:feed:{feed_id}", f"ingest:feed:{feed_id}")]


async def test_transient_failure_is_retried_later_and_keeps_data(
    conn: asyncpg.Connection,
) -> None:
    body = csv_text([sku(n) for n in range(1, 11)]).encode()
    switch = {"handler": feed_server.feed(body)}

    async def respond(request):  # type: ignore[no-untyped-def]
        return await switch["handler"](request)

    async with feed_server.serve(respond) as server:
        feed_id = await make_feed(conn, server.url("/feed"))
        await queue.defer_ingest(conn, feed_id)
        await run_worker_until_idle()
        switch["handler"] = feed_server.status(503)
        await conn.execute("UPDATE feeds SET last_feed_hash = NULL")
        await queue.defer_ingest(conn, feed_id)
        await run_worker_until_idle()

    ingest_jobs = [j for j in await jobs(conn) if j[0] == "ingest"]
    assert ingest_jobs[-1][1:] == ("todo", 1)  # scheduled again with backoff, not lost
    retry_at = await conn.fetchval(
        "SELECT scheduled_at > now() FROM procrastinate_jobs WHERE task_name = 'ingest' "
        "ORDER BY id DESC LIMIT 1"
    )
    assert retry_at is True
    failed = await conn.fetchrow("SELECT status, error FROM feed_runs ORDER BY id DESC LIMIT 1")
    assert failed["status"] == "FAILED" and "503" in failed["error"]
    assert await conn.fetchval("SELECT count(*) FROM dealer_skus WHERE is_active") == 10


async def test_permanent_failure_is_not_retried(conn: asyncpg.Connection) -> None:
    async with feed_server.serve(feed_server.status(404)) as server:
        feed_id = await make_feed(conn, server.url("/feed"))
        await queue.defer_ingest(conn, feed_id)
        await run_worker_until_idle()

    assert await jobs(conn) == [("ingest", "failed", 1)]
    assert await conn.fetchval("SELECT status FROM feed_runs") == "FAILED"
