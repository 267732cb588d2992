"""ingest -> match -> benchmark -> insight through the real worker, with no timer."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from pipeline import queue
from pipeline.stages import benchmark, match
from tests.chain_factories import Dealer, box, dealer, insights, run_worker_until_idle


async def jobs(conn: asyncpg.Connection) -> list[tuple[str, str, str | None]]:
    rows = await conn.fetch(
        "SELECT task_name, status::text, queueing_lock FROM procrastinate_jobs ORDER BY id"
    )
    return [(r["task_name"], r["status"], r["queueing_lock"]) for r in rows]


async def test_one_ingest_runs_the_whole_chain_to_insights(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rivals = [Dealer(conn, tmp_path, f"Rival {i}") for i in (1, 2, 3)]
    for i, d in enumerate(rivals, start=1):
        await d.register([box(1, dealer=i, price=f"{19 + i}.00")])
    acme = Dealer(conn, tmp_path, "Acme")
    await acme.register([box(1, dealer=0, price="30.00")])
    for d in (*rivals, acme):
        await queue.defer_ingest(conn, d.feed_id)

    await run_worker_until_idle()

    done = await jobs(conn)
    assert {status for _, status, _ in done} == {"succeeded"}
    assert [t for t, _, _ in done].count("benchmark") >= 1
    assert {lock for t, _, lock in done if t == "insight"} == {
        f"insight:dealer:{d.id}" for d in (*rivals, acme)
    }
    found = {(r["sku"], r["type"]) for r in await insights(conn)}
    assert ("D0-00001", "OVERPRICED") in found
    assert await conn.fetchval("SELECT count(*) FROM insight_dirty_dealers") == 0
    assert await conn.fetchval("SELECT count(*) FROM canonical_products WHERE benchmark_dirty") == 0


async def test_ten_dealers_matching_leave_one_waiting_benchmark_job(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    for i in range(10):
        d = await dealer(conn, tmp_path, f"D{i}", [box(1, dealer=i)])
        await match.run(conn, dealer_id=d.id, defer_benchmark=queue.defer_benchmark)

    assert await jobs(conn) == [("benchmark", "todo", "benchmark")]
    assert await conn.fetchval("SELECT count(*) FROM canonical_products WHERE benchmark_dirty") == 1


async def test_three_feeds_of_one_dealer_leave_one_waiting_insight_job(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    feeds = [Dealer(conn, tmp_path, "Acme", feed=f"feed{i}") for i in range(3)]
    for i, d in enumerate(feeds):
        await d.load([box(i, dealer=i)])
    await match.run(conn, dealer_id=feeds[0].id)
    await conn.execute("DELETE FROM insight_dirty_dealers")

    # A page per product: three commits, each marking the dealer and deferring its insight.
    result = await benchmark.run(
        conn, options=benchmark.BenchmarkOptions(page_size=1), defer_insight=queue.defer_insight
    )

    assert (result.pages, result.dealers) == (3, 1)
    assert await jobs(conn) == [("insight", "todo", f"insight:dealer:{feeds[0].id}")]


async def test_a_failed_match_leaves_neither_its_writes_nor_its_downstream_job(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    acme = await dealer(conn, tmp_path, "Acme", [box(n, dealer=1) for n in range(1, 4)])

    async def defer_then_die(c: asyncpg.Connection) -> None:
        await queue.defer_benchmark(c)
        raise ConnectionResetError("worker killed after its defer, before its commit")

    with pytest.raises(ConnectionResetError):
        await match.run(conn, dealer_id=acme.id, defer_benchmark=defer_then_die)

    assert await jobs(conn) == []
    assert await conn.fetchval("SELECT count(*) FROM canonical_products") == 0
    assert await conn.fetchval("SELECT count(*) FROM dealer_skus WHERE needs_match") == 3
    again = await match.run(conn, dealer_id=acme.id, defer_benchmark=queue.defer_benchmark)
    assert again.created == 3 and await jobs(conn) == [("benchmark", "todo", "benchmark")]


async def test_a_sku_that_leaves_its_product_still_gets_its_insight(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """The match only marks the product the SKU left, which the dealer no longer
    carries: benchmark defers the dealer's insight from the marker, not the page."""
    acme = Dealer(conn, tmp_path, "Acme")
    await acme.register([box(1, dealer=0)])
    await queue.defer_ingest(conn, acme.feed_id)
    await run_worker_until_idle()
    assert await insights(conn) == []

    await acme.register([box(1, dealer=0, grain="", title="Federal range pack")])
    await queue.defer_ingest(conn, acme.feed_id)
    await run_worker_until_idle()

    assert [(r["sku"], r["type"]) for r in await insights(conn)] == [("D0-00001", "UNMATCHED")]
    assert {status for _, status, _ in await jobs(conn)} == {"succeeded"}
