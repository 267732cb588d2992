"""Insight: per dealer, where it is over- or under-priced, missing stock, or unmatched.

One statement computes every candidate and upserts it keyed by (dealer SKU,
type); insights that stopped being true are deactivated in the same statement,
never deleted. A dismissed insight stays tracked but hidden until its date.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
import structlog

from pipeline import sqlfiles

log = structlog.get_logger(__name__)
Q = sqlfiles.load("insight")


@dataclass(frozen=True, slots=True)
class InsightOptions:
    medium_pct: float = 8.0  # price per round this far from the median ...
    medium_sellers: int = 2  # ... with this many other sellers in stock: MEDIUM
    high_pct: float = 15.0
    high_sellers: int = 3
    scarce_sellers: int = 2  # out of stock while at most this many others have it in stock
    carriers: int = 3  # or while at least this many others carry it
    not_carried: int = 20  # products the dealer lacks that 3+ others stock, the top ones


@dataclass(frozen=True, slots=True)
class InsightResult:
    dealer_id: int
    candidates: int = 0
    created: int = 0
    updated: int = 0
    resolved: int = 0
    ms: float = 0.0


async def run(
    conn: asyncpg.Connection,
    *,
    dealer_id: int,
    options: InsightOptions = InsightOptions(),
) -> InsightResult:
    """Recompute one dealer's insights."""
    start = time.perf_counter()
    o = options
    async with conn.transaction():
        await conn.execute(Q["claim_dealer"], dealer_id)
        row = await conn.fetchrow(
            Q["refresh_insights"], dealer_id, _fraction(o.medium_pct), o.medium_sellers,
            _fraction(o.high_pct), o.high_sellers, o.scarce_sellers, o.carriers, o.not_carried,
        )  # fmt: skip
    result = InsightResult(
        dealer_id, row["candidates"], row["created"], row["updated"], row["resolved"],
        round((time.perf_counter() - start) * 1000, 1),
    )  # fmt: skip
    log.info(
        "insight.finished", dealer_id=dealer_id, candidates=result.candidates,
        created=result.created, updated=result.updated, resolved=result.resolved, ms=result.ms,
    )  # fmt: skip
    return result


def _fraction(pct: float) -> Decimal:
    return Decimal(str(pct)) / 100


async def active(
    conn: asyncpg.Connection, dealer_id: int, *, limit: int = 50
) -> list[asyncpg.Record]:
    """A dealer's active, undismissed insights, the most severe first."""
    return list(await conn.fetch(Q["active_insights"], dealer_id, limit))


async def dealer_id(conn: asyncpg.Connection, name: str) -> int | None:
    found: int | None = await conn.fetchval(Q["dealer_by_name"], name)
    return found


async def dismiss(conn: asyncpg.Connection, insight_id: int, until: dt.datetime) -> None:
    """Hide an insight until ``until``; it is still updated and resolved meanwhile."""
    await conn.execute(Q["dismiss"], insight_id, until)


def format_insight(row: asyncpg.Record) -> str:
    return f"[{row['severity']:<6}] {row['type']:<17} {row['sku'] or '-'}: {row['explanation']}"


async def print_sample(
    conn: asyncpg.Connection, feed_ids: list[int], *, per_dealer: int = 3
) -> None:
    """A few active insights of the dealers owning these feeds (the demo's last words)."""
    dealers = await conn.fetch(Q["dealers_of_feeds"], feed_ids)
    for dealer in dealers:
        rows = await active(conn, dealer["id"], limit=per_dealer)
        print(f"\ninsights for {dealer['name']}:")
        for row in rows:
            print("  " + format_insight(row))
        if not rows:
            print("  (none)")
