"""Builders for the match -> benchmark -> insight tests: dealers with feeds, runs, workers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

from pipeline import queue
from pipeline.feeds import fetch
from pipeline.stages import benchmark, ingest, insight, match
from tests.factories import CSV_COLUMNS, csv_text, make_feed, sku

OPTIONS = ingest.IngestOptions(limits=fetch.FetchLimits(retries=0, backoff_base=0.0))


def box(n: int, *, dealer: int = 0, **overrides: Any) -> dict[str, str]:
    """Product ``n`` as dealer ``dealer`` lists it: same product, the dealer's own code."""
    row = sku(
        n,
        sku=f"D{dealer}-{n:05d}",
        title=f"Federal American Eagle 9mm Luger 115gr FMJ Line {n} - 50 Rounds",
        grain=str(100 + n),
        price="20.00",
    )
    row.update({k: str(v) for k, v in overrides.items()})
    return row


class Dealer:
    """One dealer with one CSV feed in ``tmp``; ``load`` rewrites and ingests it."""

    def __init__(self, conn: asyncpg.Connection, tmp: Path, name: str, feed: str = "main"):
        self.conn, self.path, self.name, self.feed = conn, tmp / f"{name}-{feed}.csv", name, feed
        self.feed_id = 0
        self.id = 0

    async def register(self, rows: list[dict[str, str]], **feed_options: Any) -> None:
        """Write the feed file and create the dealer and feed, without ingesting."""
        self.path.write_text(csv_text(rows, (*CSV_COLUMNS, "mpn")), encoding="utf-8")
        if not self.feed_id:
            self.feed_id = await make_feed(
                self.conn, self.path, dealer=self.name, name=self.feed, **feed_options
            )
            self.id = await self.conn.fetchval(
                "SELECT dealer_id FROM feeds WHERE id = $1", self.feed_id
            )

    async def load(self, rows: list[dict[str, str]], **feed_options: Any) -> ingest.IngestResult:
        await self.register(rows, **feed_options)
        return await ingest.run(self.conn, feed_id=self.feed_id, options=OPTIONS)


async def dealer(
    conn: asyncpg.Connection, tmp: Path, name: str, rows: list[dict[str, str]], **kw: Any
) -> Dealer:
    d = Dealer(conn, tmp, name)
    await d.load(rows, **kw)
    return d


async def chain(conn: asyncpg.Connection, *dealers: Dealer) -> None:
    """match every dealer, benchmark, then insight every dealer, without the queue."""
    for d in dealers:
        await match.run(conn, dealer_id=d.id)
    await benchmark.run(conn)
    for d in dealers:
        await insight.run(conn, dealer_id=d.id)


async def run_worker_until_idle() -> None:
    async with queue.app.open_async():
        await queue.app.run_worker_async(
            wait=False, install_signal_handlers=False, listen_notify=False
        )


async def mappings(conn: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT sku, canonical_product_id, match_method, match_score, matcher_version, "
        "match_review_reason, needs_match FROM dealer_skus"
    )
    return {r["sku"]: r for r in rows}


async def insights(conn: asyncpg.Connection, *, active: bool = True) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT i.*, d.sku FROM dealer_insights i JOIN dealer_skus d ON d.id = i.dealer_sku_id "
            "WHERE i.is_active = $1 ORDER BY i.id",
            active,
        )
    )


class StatementCounter:
    """Statements a block of code sends on ``conn`` (asyncpg's query logger)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn, self.statements = conn, list[str]()

    def _record(self, query: asyncpg.connection.LoggedQuery) -> None:
        self.statements.append(query.query)

    def __enter__(self) -> StatementCounter:
        self.conn.add_query_logger(self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.remove_query_logger(self._record)

    @property
    def count(self) -> int:
        return len(self.statements)
