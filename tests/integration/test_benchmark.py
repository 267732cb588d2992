"""The benchmark stage: statistics, paging without a cap, snapshots only on change."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import asyncpg

from pipeline import queue
from pipeline.stages import benchmark, match
from tests.chain_factories import StatementCounter, box, dealer


async def test_benchmark_has_per_unit_and_per_round_statistics(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    prices = ["10.00", "11.00", "12.00", "13.00", "14.00", "90.00"]  # 90: an outlier
    dealers = [
        await dealer(conn, tmp_path, f"D{i}", [box(1, dealer=i, price=p)])
        for i, p in enumerate(prices)
    ]
    for d in dealers:
        await match.run(conn, dealer_id=d.id)

    result = await benchmark.run(conn)

    b = await conn.fetchrow("SELECT * FROM benchmarks")
    assert (result.products, result.changed, result.snapshots, result.dealers) == (1, 1, 1, 6)
    assert (b["seller_count"], b["points"], b["trimmed"], b["confidence"]) == (5, 5, 1, "HIGH")
    assert (b["min_price"], b["median_price"], b["max_price"]) == (
        Decimal("10.00"), Decimal("12.00"), Decimal("14.00"),
    )  # fmt: skip
    assert b["median_per_round"] == Decimal("0.2400")  # 50 rounds a box
    assert await conn.fetchval("SELECT count(*) FROM canonical_products WHERE benchmark_dirty") == 0
    marked = await conn.fetchval("SELECT count(*) FROM insight_dirty_dealers")
    assert marked == 6


async def test_more_than_600_dirty_products_are_all_done_in_one_run(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute(
        "INSERT INTO canonical_products (name) SELECT 'p' || n FROM generate_series(1, 2345) n"
    )

    result = await benchmark.run(conn, options=benchmark.BenchmarkOptions(page_size=500))

    assert (result.products, result.pages) == (2345, 5)
    assert await conn.fetchval("SELECT count(*) FROM canonical_products WHERE benchmark_dirty") == 0


async def test_snapshot_is_written_only_when_the_benchmark_changed(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = [box(n, dealer=1) for n in range(1, 4)]
    acme = await dealer(conn, tmp_path, "Acme", rows)
    await match.run(conn, dealer_id=acme.id)
    await benchmark.run(conn)

    await conn.execute("UPDATE canonical_products SET benchmark_dirty = true")
    unchanged = await benchmark.run(conn)
    rows[0]["price"] = "30.00"
    await acme.load(rows)
    await match.run(conn, dealer_id=acme.id)
    changed = await benchmark.run(conn)

    assert (unchanged.products, unchanged.snapshots) == (3, 0)
    assert (changed.products, changed.snapshots) == (1, 1)
    assert await conn.fetchval("SELECT count(*) FROM pricing_snapshots") == 4


async def test_product_nobody_offers_loses_its_benchmark(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    acme = await dealer(conn, tmp_path, "Acme", [box(1, dealer=1)])
    await match.run(conn, dealer_id=acme.id)
    await benchmark.run(conn)

    await acme.load([box(1, dealer=1, availability="out of stock")])
    await match.run(conn, dealer_id=acme.id)
    result = await benchmark.run(conn)

    assert result.removed == 1
    assert await conn.fetchval("SELECT count(*) FROM benchmarks") == 0


async def test_benchmark_statements_do_not_grow_with_products(conn: asyncpg.Connection) -> None:
    async def statements(n: int) -> int:
        await conn.execute(
            "INSERT INTO canonical_products (name) SELECT 'p' || n FROM generate_series(1, $1) n",
            n,
        )
        with StatementCounter(conn) as counter:
            await benchmark.run(conn, options=benchmark.BenchmarkOptions(page_size=20_000))
        return counter.count

    await benchmark.run(conn)  # warm asyncpg's statement and type caches
    assert await statements(100) == await statements(10_000)


async def test_ten_triggers_leave_one_waiting_benchmark_job(conn: asyncpg.Connection) -> None:
    for _ in range(10):
        async with conn.transaction():
            await queue.defer_benchmark(conn)

    jobs = await conn.fetch(
        "SELECT task_name, queueing_lock, lock, status::text FROM procrastinate_jobs"
    )
    assert [tuple(j) for j in jobs] == [("benchmark", "benchmark", "benchmark", "todo")]


async def test_a_foreign_key_reader_of_a_product_does_not_hold_up_its_benchmark(
    conn: asyncpg.Connection, dsn: str
) -> None:
    """An insight row being written takes a KEY SHARE lock on its product; the page's own
    lock must not conflict with it (FOR UPDATE did, and deadlocked benchmark with insight)."""
    await conn.execute(
        "INSERT INTO canonical_products (name) SELECT 'p' || n FROM generate_series(1, 5) n"
    )
    other = await asyncpg.connect(dsn)
    try:
        async with other.transaction():
            await other.execute("SELECT id FROM canonical_products FOR KEY SHARE")
            result = await benchmark.run(conn)
    finally:
        await other.close()

    assert result.products == 5
    assert await conn.fetchval("SELECT count(*) FROM canonical_products WHERE benchmark_dirty") == 0
