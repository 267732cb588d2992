"""The scheduler tick, failure backoff, stalled jobs and retention, in process.

Real worker processes, several at once, are in tests/acceptance.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import asyncpg
import pytest

from pipeline import errors, queue, scheduler
from pipeline.stages import ingest
from tests.chain_factories import OPTIONS, StatementCounter
from tests.factories import make_feed, sku, write_csv

INTERVAL = dt.timedelta(seconds=60)


async def feeds(conn: asyncpg.Connection, n: int, *, tier: int = 0, due_in: float = 0) -> list[int]:
    """``n`` feeds of one dealer, each due ``due_in`` seconds from now (on a whole second)."""
    dealer = await conn.fetchval(
        "INSERT INTO dealers (name, tier) VALUES ('Dealer ' || $1, $2) RETURNING id",
        f"{n}-{tier}", tier,
    )  # fmt: skip
    rows = await conn.fetch(
        "INSERT INTO feeds (dealer_id, name, source, poll_interval, next_run_at) "
        "SELECT $1, 'feed ' || i, 'http://127.0.0.1:9/' || i, $2, "
        "       date_trunc('second', now()) + make_interval(secs => $4) "
        "FROM generate_series(1, $3) i RETURNING id",
        dealer, INTERVAL, n, due_in,
    )  # fmt: skip
    return [r["id"] for r in rows]


async def ingest_jobs(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT (args->>'feed_id')::bigint AS feed_id, priority, lock, queueing_lock, "
            "status::text, scheduled_at FROM procrastinate_jobs WHERE task_name = 'ingest' "
            "ORDER BY 1"
        )
    )


async def test_tick_defers_each_due_feed_once_with_its_tier_as_priority(
    conn: asyncpg.Connection,
) -> None:
    due = await feeds(conn, 3, tier=2)
    await feeds(conn, 2, due_in=60)
    paused = (await feeds(conn, 1))[0]
    await conn.execute("UPDATE feeds SET status = 'PAUSED' WHERE id = $1", paused)

    first = await scheduler.tick(conn, max_jitter=0)
    second = await scheduler.tick(conn, max_jitter=0)

    jobs = await ingest_jobs(conn)
    assert (first.claimed, first.deferred, second.claimed) == (3, 3, 0)
    assert [j["feed_id"] for j in jobs] == due
    assert {(j["priority"], j["status"]) for j in jobs} == {(2, "todo")}
    assert all(j["lock"] == j["queueing_lock"] == f"ingest:feed:{j['feed_id']}" for j in jobs)


async def test_next_run_is_advanced_from_the_due_time_not_from_now(
    conn: asyncpg.Connection,
) -> None:
    """Due 150 s ago with a 60 s interval: next due is the due time + 180 s, exactly."""
    feed = (await feeds(conn, 1, due_in=-150))[0]
    due = await conn.fetchval("SELECT next_run_at FROM feeds WHERE id = $1", feed)

    await scheduler.tick(conn, max_jitter=0)

    after = await conn.fetchval("SELECT next_run_at FROM feeds WHERE id = $1", feed)
    assert after - due == dt.timedelta(seconds=180)


async def test_schedule_does_not_drift_over_many_ticks(conn: asyncpg.Connection) -> None:
    """A 1 s interval ticked at irregular moments for 4 s: every due time stays on the grid."""
    feed = (await feeds(conn, 1))[0]
    await conn.execute("UPDATE feeds SET poll_interval = interval '1 second' WHERE id = $1", feed)
    anchor = await conn.fetchval("SELECT next_run_at FROM feeds WHERE id = $1", feed)
    seen = []
    for pause in (0.13, 0.41, 0.29, 0.77, 0.05, 0.93, 0.37, 0.61, 0.52):
        await scheduler.tick(conn, max_jitter=0)
        await conn.execute("DELETE FROM procrastinate_jobs")  # as if each ingest ran at once
        seen.append(await conn.fetchval("SELECT next_run_at FROM feeds WHERE id = $1", feed))
        await asyncio.sleep(pause)

    offsets = [(s - anchor).total_seconds() for s in seen]
    assert all(o == int(o) for o in offsets), offsets  # whole intervals from the first due time
    assert offsets == sorted(offsets) and offsets[-1] >= 4


async def test_jitter_delays_the_job_but_not_the_schedule(conn: asyncpg.Connection) -> None:
    ids = await feeds(conn, 20, due_in=0)
    due = await conn.fetchval("SELECT next_run_at FROM feeds WHERE id = $1", ids[0])

    await scheduler.tick(conn, max_jitter=2.0)

    jobs = await ingest_jobs(conn)
    delays = [(j["scheduled_at"] - due).total_seconds() for j in jobs]
    assert len(set(delays)) > 1 and all(0 <= d <= 3.0 for d in delays)  # 60 s / 20 = 3 s max
    nexts = await conn.fetch("SELECT DISTINCT next_run_at FROM feeds")
    assert [r["next_run_at"] for r in nexts] == [due + INTERVAL]


async def test_a_feed_whose_ingest_is_waiting_is_advanced_but_not_deferred_again(
    conn: asyncpg.Connection,
) -> None:
    first, second = await feeds(conn, 2)
    async with conn.transaction():
        await queue.defer_ingest(conn, first)

    result = await scheduler.tick(conn, max_jitter=0)

    assert (result.claimed, result.deferred, result.already_queued) == (2, 1, 1)
    assert [j["feed_id"] for j in await ingest_jobs(conn)] == [first, second]


async def test_a_tick_while_another_replica_leads_does_nothing(
    conn: asyncpg.Connection, dsn: str
) -> None:
    await feeds(conn, 3)
    other = await asyncpg.connect(dsn)
    try:
        async with other.transaction():
            assert await other.fetchval(scheduler.Q["lead_tick"])
            result = await scheduler.tick(conn, max_jitter=0)
    finally:
        await other.close()

    assert result == scheduler.TickResult(led=False)
    assert await ingest_jobs(conn) == []


async def test_concurrent_ticks_defer_every_feed_exactly_once(
    conn: asyncpg.Connection, dsn: str
) -> None:
    await feeds(conn, 1_200)
    others = [await asyncpg.connect(dsn) for _ in range(3)]
    try:
        results = await asyncio.gather(
            *(scheduler.tick(c, batch=100, max_jitter=0) for c in others)
        )
    finally:
        for c in others:
            await c.close()

    assert sum(r.deferred for r in results) == 1_200
    jobs = await ingest_jobs(conn)
    assert len(jobs) == len({j["feed_id"] for j in jobs}) == 1_200


async def test_tick_statements_do_not_grow_with_due_feeds(conn: asyncpg.Connection) -> None:
    async def statements(n: int) -> int:
        await feeds(conn, n)
        with StatementCounter(conn) as counter:
            result = await scheduler.tick(conn, batch=5_000, max_jitter=0)
        assert result.deferred == n
        return counter.count

    await statements(3)  # warm asyncpg's statement and type caches
    assert await statements(10) == await statements(2_000)


async def test_failing_feed_backs_off_is_marked_failing_and_recovers(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "feed.csv"
    feed = await make_feed(conn, path)
    await conn.execute("UPDATE feeds SET poll_interval = interval '60 seconds' WHERE id = $1", feed)
    options = ingest.IngestOptions(limits=OPTIONS.limits, failing_after=3, backoff_cap=200)
    waits = []
    for _ in range(4):
        with pytest.raises(errors.PipelineError):
            await ingest.run(conn, feed_id=feed, options=options)
        row = await conn.fetchrow(
            "SELECT status, failure_count, next_run_at - now() AS wait FROM feeds WHERE id = $1",
            feed,
        )
        waits.append((row["status"], row["failure_count"], round(row["wait"].total_seconds())))

    write_csv(path, [sku(1)])
    await ingest.run(conn, feed_id=feed, options=options)
    healed = await conn.fetchrow("SELECT status, failure_count FROM feeds WHERE id = $1", feed)

    # 60, 120, 240 -> capped at 200, 200; FAILING from the third failure in a row.
    assert waits == [("ACTIVE", 1, 60), ("ACTIVE", 2, 120), ("FAILING", 3, 200),
                     ("FAILING", 4, 200)]  # fmt: skip
    assert tuple(healed) == ("ACTIVE", 0)
    assert await conn.fetchval("SELECT count(*) FROM dealer_skus WHERE is_active") == 1


async def test_stalled_job_is_retried_and_its_run_marked_failed(conn: asyncpg.Connection) -> None:
    feed = (await feeds(conn, 1))[0]
    async with conn.transaction():
        job = await queue.defer_ingest(conn, feed)
    dead = await conn.fetchval(
        "INSERT INTO procrastinate_workers (last_heartbeat) "
        "VALUES (now() - interval '10 minutes') RETURNING id"
    )
    await conn.execute(
        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = $2 WHERE id = $1", job, dead
    )
    run = await conn.fetchval(
        "INSERT INTO feed_runs (feed_id, dealer_id, job_id) "
        "SELECT id, dealer_id, $2 FROM feeds WHERE id = $1 RETURNING id",
        feed, job,
    )  # fmt: skip

    async with queue.app.open_async():
        retried = await scheduler.retry_stalled(conn, queue.app.job_manager, after=60)

    assert retried == [job]
    status = await conn.fetchval("SELECT status::text FROM procrastinate_jobs WHERE id = $1", job)
    failed = await conn.fetchrow("SELECT status, error FROM feed_runs WHERE id = $1", run)
    assert status == "todo"
    assert failed["status"] == "FAILED" and "no heartbeat" in failed["error"]


async def test_a_live_workers_job_is_not_stalled(conn: asyncpg.Connection) -> None:
    feed = (await feeds(conn, 1))[0]
    async with conn.transaction():
        job = await queue.defer_ingest(conn, feed)
    alive = await conn.fetchval(
        "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now()) RETURNING id"
    )
    await conn.execute(
        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = $2 WHERE id = $1", job, alive
    )

    async with queue.app.open_async():
        assert await scheduler.retry_stalled(conn, queue.app.job_manager, after=60) == []


async def test_retention_prunes_old_rows_in_batches_and_keeps_what_is_referenced(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "feed.csv", [sku(n) for n in range(1, 4)])
    feed = await make_feed(conn, path)
    await ingest.run(conn, feed_id=feed, options=OPTIONS)
    write_csv(path, [sku(n, price="99.00") for n in range(1, 4)])
    await ingest.run(conn, feed_id=feed, options=OPTIONS)  # 3 price_history rows
    # 25 old, unreferenced runs; the two real ones are old too.
    await conn.execute(
        "INSERT INTO feed_runs (feed_id, dealer_id, status, started_at) "
        "SELECT id, dealer_id, 'UNCHANGED', now() - interval '90 days' + g * interval '1 s' "
        "FROM feeds, generate_series(1, 25) g"
    )
    await conn.execute("UPDATE feed_runs SET started_at = now() - interval '91 days' WHERE id <= 2")
    await conn.execute("UPDATE price_history SET changed_at = now() - interval '400 days'")
    keep = scheduler.Retention(jobs=7, feed_runs=30, quarantine=30, price_history=365, batch=10)

    kept_history = await scheduler.prune(
        conn, scheduler.Retention(jobs=7, feed_runs=30, quarantine=30, price_history=999, batch=10)
    )
    runs_while_history = await conn.fetchval("SELECT count(*) FROM feed_runs")
    deleted = await scheduler.prune(conn, keep)

    assert kept_history["feed_runs"] == 25  # not the one history points at, nor the newest
    assert runs_while_history == 2
    assert (deleted["price_history"], deleted["feed_runs"]) == (3, 1)
    remaining = await conn.fetch("SELECT started_at FROM feed_runs")
    assert len(remaining) == 1  # the feed's latest run is always kept


async def test_retention_prunes_finished_jobs_only(conn: asyncpg.Connection) -> None:
    ids = await feeds(conn, 3)
    async with conn.transaction():
        jobs = [await queue.defer_ingest(conn, f) for f in ids]
    await conn.execute("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = $1", jobs[0])
    await conn.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = $1", jobs[1])
    await conn.execute("UPDATE procrastinate_events SET at = now() - interval '30 days'")

    deleted = await scheduler.prune(
        conn, scheduler.Retention(jobs=7, feed_runs=30, quarantine=30, price_history=365, batch=1)
    )

    assert deleted["jobs"] == 2
    left = await conn.fetch("SELECT id, status::text FROM procrastinate_jobs")
    assert [tuple(r) for r in left] == [(jobs[2], "todo")]
