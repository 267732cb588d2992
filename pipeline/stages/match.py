"""Match: map a dealer's new or changed-identity SKUs to canonical products, set-based.

    manual (never changed) -> GTIN (trusted feed) -> brand + MPN
        -> attribute block scored by title similarity (match | review)
        -> create a product (valid GTIN or complete attributes) -> unmatched, with a reason

Each step is one statement over every pending SKU of the dealer, so the number
of statements does not depend on the number of SKUs. A price or stock change
does not ask for a rematch (``needs_match`` stays false); it only reaches
benchmark through the ``benchmark_pending`` flag that a trigger sets.

Everything runs in one transaction that also defers the downstream job: the
products are marked dirty and the benchmark job exists if and only if the
mapping committed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog

from pipeline import sqlfiles

log = structlog.get_logger(__name__)
Q = sqlfiles.load("match")

MATCHER_VERSION = "match-1"

# Downstream hooks, called inside the match transaction.
DeferBenchmark = Callable[[asyncpg.Connection], Awaitable[object]]
DeferInsight = Callable[[asyncpg.Connection, int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class MatchOptions:
    accept_score: float = 0.45  # title similarity that is a match inside an attribute block
    review_score: float = 0.2  # below this the block offers no candidate at all
    margin: float = 0.05  # the best must beat the runner-up by this much
    # ANALYZE once at least this many SKUs, and a tenth of what the planner believes
    # the table holds, changed since the last ANALYZE (see match.sql, analyze).
    analyze_after: int = 500


@dataclass(frozen=True, slots=True)
class MatchResult:
    dealer_id: int
    gtin: int = 0
    brand_mpn: int = 0
    attributes: int = 0  # matched or sent to review inside an attribute block
    created: int = 0
    unmatched: int = 0
    products_marked: int = 0
    ms: float = 0.0


async def run(
    conn: asyncpg.Connection,
    *,
    dealer_id: int,
    options: MatchOptions = MatchOptions(),
    defer_benchmark: DeferBenchmark | None = None,
    defer_insight: DeferInsight | None = None,
) -> MatchResult:
    """Match every pending SKU of one dealer and hand the changes to benchmark and insight."""
    start = time.perf_counter()
    version = MATCHER_VERSION
    async with conn.transaction():
        await conn.execute(Q["serialize_matchers"])
        released = await conn.fetchval(Q["reset_pending"], dealer_id)
        gtin, marked_gtin = await conn.fetchrow(Q["match_gtin"], dealer_id, version)
        mpn, marked_mpn = await conn.fetchrow(Q["match_brand_mpn"], dealer_id, version)
        attributes, marked_attributes = await conn.fetchrow(
            Q["match_attributes"], dealer_id, version,
            options.accept_score, options.review_score, options.margin,
        )  # fmt: skip
        new_products = _count(await conn.execute(Q["create_products"], dealer_id))
        created = _count(await conn.execute(Q["map_created"], dealer_id, version))
        unmatched, believed_rows, changed_since = await conn.fetchrow(
            Q["finish_unmatched"], dealer_id, version
        )
        changed = gtin + mpn + attributes + created + unmatched + (changed_since or 0)
        if changed >= max(options.analyze_after, believed_rows / 10):
            await conn.execute(Q["analyze"])
        marked = released + marked_gtin + marked_mpn + marked_attributes + new_products
        marked += await conn.fetchval(Q["mark_products_dirty"], dealer_id)
        await conn.execute(Q["mark_dealer_insight_dirty"], dealer_id)
        if marked and defer_benchmark is not None:
            await defer_benchmark(conn)
        elif defer_insight is not None:  # no benchmark will follow: unmatched SKUs still count
            await defer_insight(conn, dealer_id)
    result = MatchResult(
        dealer_id, gtin, mpn, attributes, created, unmatched, marked,
        round((time.perf_counter() - start) * 1000, 1),
    )  # fmt: skip
    log.info(
        "match.finished", dealer_id=dealer_id, gtin=gtin, brand_mpn=mpn, attributes=attributes,
        created=created, unmatched=unmatched, products_marked=marked, ms=result.ms,
    )  # fmt: skip
    return result


def _count(status: str) -> int:
    """Rows affected, from a command tag such as ``UPDATE 3``."""
    return int(status.rsplit(" ", 1)[-1])
