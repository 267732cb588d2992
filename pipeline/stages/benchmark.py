"""Benchmark: drain every dirty canonical product, one keyset page per statement.

There is no cap: the loop runs until a page comes back empty, so one job does
all the work however much of it there is. Each page commits on its own together
with the insight jobs of the dealers it marked, so a crash loses at most the
page in flight, whose products are still dirty for the next job.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog

from pipeline import sqlfiles

log = structlog.get_logger(__name__)
Q = sqlfiles.load("benchmark")

# Called inside a page's transaction for every dealer the page marked for insights.
DeferInsight = Callable[[asyncpg.Connection, int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class BenchmarkOptions:
    page_size: int = 1000
    lookback_days: int = 7  # offers from feeds that succeeded within this many days
    trim_min_points: int = 5  # IQR trimming only with at least this many offers


@dataclass(frozen=True, slots=True)
class BenchmarkResult:
    pages: int = 0
    products: int = 0
    changed: int = 0
    snapshots: int = 0
    removed: int = 0
    dealers: int = 0
    ms: float = 0.0


async def run(
    conn: asyncpg.Connection,
    *,
    options: BenchmarkOptions = BenchmarkOptions(),
    defer_insight: DeferInsight | None = None,
) -> BenchmarkResult:
    """Benchmark every dirty product; defer insights for the dealers carrying them."""
    start = time.perf_counter()
    after, totals, dealers = (
        0,
        dict.fromkeys(("products", "changed", "snapshots", "removed"), 0),
        set(),
    )
    pages = 0
    while True:
        async with conn.transaction():
            page = await conn.fetchrow(
                Q["benchmark_page"], after, options.page_size, options.lookback_days,
                options.trim_min_points,
            )  # fmt: skip
            if page["last_id"] is None:
                break
            for dealer_id in page["dealers"]:
                if defer_insight is not None:
                    await defer_insight(conn, dealer_id)
        pages += 1
        after = page["last_id"]
        dealers.update(page["dealers"])
        for key in totals:
            totals[key] += page[key]
    if defer_insight is not None:
        # Dealers marked by someone else (a match whose SKUs left a product, or a
        # job lost before it ran) get their insight job too: the marker is the truth.
        async with conn.transaction():
            for dealer_id in await conn.fetchval(Q["dirty_dealers"]):
                if dealer_id not in dealers:
                    await defer_insight(conn, dealer_id)
    result = BenchmarkResult(
        pages=pages, dealers=len(dealers), ms=round((time.perf_counter() - start) * 1000, 1),
        **totals,
    )  # fmt: skip
    log.info(
        "benchmark.finished", pages=pages, products=result.products, changed=result.changed,
        snapshots=result.snapshots, removed=result.removed, dealers=result.dealers, ms=result.ms,
    )  # fmt: skip
    return result
