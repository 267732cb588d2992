"""Match, benchmark and insight timings for 50 dealers sharing one catalogue.

    python -m bench.chain [--skus 10000 100000]

For each total: a fresh database, 50 dealers drawing from one catalogue of
20,000 products, the SKUs split evenly between them (10,000 -> 200 a dealer),
one clean CSV feed each. Every feed is ingested (the stage, called directly),
then the chain is timed stage by stage, called directly too: match for every
dealer, one benchmark run, insight for every dealer. Then every feed is
rewritten with 10% of its prices raised, re-ingested, and the chain is timed
again. Results go to bench/out/chain.json and bench/out/chain.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from bench import common
from pipeline import db, migrate, registry, synthetic
from pipeline.stages import benchmark, ingest, insight, match

DEALERS = 50
PRODUCTS = 20_000
DATABASE = "pipeline_bench_chain"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DealerFeed:
    index: int
    v1: Path
    v2: Path
    live: Path  # what the feed's source points at: v1's bytes, then v2's


def write_feeds(total: int, out: Path) -> list[DealerFeed]:
    """Every dealer's v1 (generated) and v2 (every tenth price +5%) CSV."""
    products = synthetic.catalogue(PRODUCTS, common.SEED)
    per_dealer = total // DEALERS
    feeds = []
    for i in range(DEALERS):
        stem = out / f"chain-{total}-d{i:02d}"
        feed = DealerFeed(i, Path(f"{stem}-v1.csv"), Path(f"{stem}-v2.csv"), Path(f"{stem}.csv"))
        rows = synthetic.iter_dealer_rows(
            i, products, per_dealer, common.SEED, malformed_fraction=0
        )
        synthetic.write_feed(rows, feed.v1, "csv")
        common.reprice(feed.v1, feed.v2)
        feeds.append(feed)
    return feeds


async def timed(work: Awaitable[T]) -> tuple[float, T]:
    """Milliseconds ``work`` (a coroutine not yet started) takes, and its result."""
    start = time.perf_counter()
    result = await work
    return (time.perf_counter() - start) * 1000, result


async def ingest_all(
    conn: asyncpg.Connection, feeds: list[DealerFeed], feed_ids: list[int], version: int
) -> dict[str, Any]:
    """Point each live file at ``version`` and ingest it; the stage's own results, summed."""
    options = ingest.IngestOptions()
    ms, created, updated = [], 0, 0
    for feed, feed_id in zip(feeds, feed_ids, strict=True):
        feed.live.write_bytes((feed.v1 if version == 1 else feed.v2).read_bytes())
        elapsed, result = await timed(ingest.run(conn, feed_id=feed_id, options=options))
        ms.append(elapsed)
        created, updated = created + result.created, updated + result.updated
    return {"sum_ms": round(sum(ms), 1), "created": created, "updated": updated}


async def chain_round(conn: asyncpg.Connection, dealer_ids: list[int]) -> dict[str, Any]:
    """Match every dealer, one benchmark run, insight every dealer: each timed."""
    match_ms, matched = [], []
    for dealer_id in dealer_ids:
        elapsed, m = await timed(match.run(conn, dealer_id=dealer_id))
        match_ms.append(elapsed)
        matched.append(m)
    bench_ms, b = await timed(benchmark.run(conn))
    insight_ms, insights = [], []
    for dealer_id in dealer_ids:
        elapsed, r = await timed(insight.run(conn, dealer_id=dealer_id))
        insight_ms.append(elapsed)
        insights.append(r)
    return {
        "match": _stage(match_ms) | _totals(asdict(m) for m in matched),
        "benchmark": {"ms": round(bench_ms, 1), "pages": b.pages, "products": b.products,
                      "changed": b.changed, "snapshots": b.snapshots},
        "insight": _stage(insight_ms) | _totals(asdict(r) for r in insights),
    }  # fmt: skip


def _stage(ms: list[float]) -> dict[str, float]:
    return {
        "sum_ms": round(sum(ms), 1),
        "median_ms": round(statistics.median(ms), 1),
        "max_ms": round(max(ms), 1),
    }


def _totals(results: Any) -> dict[str, int]:
    """Integer counters of the stage results, summed (ids and timings left out)."""
    totals: dict[str, int] = {}
    for result in results:
        for key, value in result.items():
            if isinstance(value, int) and key != "dealer_id":
                totals[key] = totals.get(key, 0) + value
    return totals


async def measure(total: int) -> dict[str, Any]:
    feeds = write_feeds(total, common.OUT)
    dsn = await common.fresh_database(DATABASE)
    conn = await db.connect(dsn)
    try:
        await migrate.migrate(conn)
        dealer_ids, feed_ids = [], []
        for feed in feeds:
            name = synthetic.rows.dealer_style(feed.index).name
            dealer_ids.append(await registry.upsert_dealer(conn, name))
            feed_ids.append(await registry.upsert_feed(
                conn, dealer_id=dealer_ids[-1], name="main", source=str(feed.live)
            ))  # fmt: skip
        rounds = {}
        for label, version in (("first_load", 1), ("changed_10pct", 2)):
            loaded = await ingest_all(conn, feeds, feed_ids, version)
            rounds[label] = {"ingest": loaded, **await chain_round(conn, dealer_ids)}
        counts = await conn.fetchrow(COUNTS)
    finally:
        await conn.close()
    return {
        "skus": total,
        "dealers": DEALERS,
        "per_dealer": total // DEALERS,
        "catalogue": PRODUCTS,
        "rounds": rounds,
        "database": dict(counts),
        "postgres": await common.postgres_facts(dsn),
    }


COUNTS = """
SELECT (SELECT count(*) FROM dealer_skus) AS dealer_skus,
       (SELECT count(*) FROM canonical_products) AS products,
       (SELECT count(*) FROM benchmarks) AS benchmarks,
       (SELECT count(*) FROM dealer_insights WHERE is_active) AS active_insights
"""


def markdown(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    pg = results[0]["postgres"]["version"] if results else "?"
    lines = [
        "# Chain benchmark: match, benchmark, insight", "",
        f"`python -m bench.chain` on {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}; PostgreSQL {pg}. {DEALERS} dealers, one catalogue of "
        f"{PRODUCTS:,} products, stages called directly (no queue). One run each.", "",
        "| SKUs | round | ingest (sum) ms | match sum ms | match median/dealer ms "
        "| benchmark ms | insight sum ms | insight median/dealer ms | chain total ms |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for r in results:
        for label, rd in r["rounds"].items():
            m, b, i = rd["match"], rd["benchmark"], rd["insight"]
            chain = m["sum_ms"] + b["ms"] + i["sum_ms"]
            lines.append(
                f"| {r['skus']:,} | {label} | {rd['ingest']['sum_ms']:,.0f} | {m['sum_ms']:,.0f} "
                f"| {m['median_ms']:,.1f} | {b['ms']:,.0f} | {i['sum_ms']:,.0f} "
                f"| {i['median_ms']:,.1f} | {chain:,.0f} |"
            )
    lines += ["", "What the stages did:", ""]
    for r in results:
        for label, rd in r["rounds"].items():
            m, b, i = rd["match"], rd["benchmark"], rd["insight"]
            lines.append(
                f"- {r['skus']:,} {label}: ingest created {rd['ingest']['created']:,} updated "
                f"{rd['ingest']['updated']:,}; match gtin {m['gtin']:,}, brand+mpn "
                f"{m['brand_mpn']:,}, attributes {m['attributes']:,}, created {m['created']:,}, "
                f"unmatched {m['unmatched']:,}; benchmark {b['products']:,} products in "
                f"{b['pages']} pages ({b['changed']:,} changed); insight candidates "
                f"{i['candidates']:,}, created {i['created']:,}, updated {i['updated']:,}, "
                f"resolved {i['resolved']:,}"
            )
        lines.append(f"- {r['skus']:,} at the end: {r['database']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--skus", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    common.quiet_logs()
    common.OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for total in args.skus:
        results.append(asyncio.run(measure(total)))
        print(json.dumps(results[-1]["rounds"]), flush=True)
    if not args.keep:
        asyncio.run(common.drop_database(DATABASE))
    facts = common.machine()
    (common.OUT / "chain.json").write_text(
        json.dumps({"machine": facts, "results": results}, indent=2, default=str)
    )
    text = markdown(results, facts)
    (common.OUT / "chain.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
