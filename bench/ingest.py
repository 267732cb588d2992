"""Ingest timings at 10,000 and 100,000 SKUs next to the raw COPY floor.

    python -m bench.ingest [--tiers 10000 100000] [--repeat 3]

For each tier, in a fresh process (so its peak RSS is its own) and a fresh
database: write a synthetic CSV feed and a version with 10% of prices changed,
then time the ingest stage for a first load, an unchanged re-poll (same bytes),
the 10%-changed re-poll, and, as the floor, PostgreSQL's own ``COPY ... FROM
STDIN (FORMAT csv)`` of the same file into a bare table with no index. Results
go to bench/out/ingest.json and bench/out/ingest.md. Uses DATABASE_URL, or the
embedded server.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench import common
from pipeline import db, migrate, queue, registry, synthetic
from pipeline.stages import ingest

OUT = common.OUT
SEED = common.SEED
fresh_database = common.fresh_database


def write_feeds(n: int, out: Path) -> tuple[Path, Path]:
    """v1 from the generator; v2 = v1 with every tenth data row's price raised 5%."""
    v1, v2 = out / f"tier-{n}-v1.csv", out / f"tier-{n}-v2.csv"
    if not v1.exists():
        synthetic.write_tier_feed(v1, n, SEED)
    common.reprice(v1, v2)
    return v1, v2


async def timed_ingest(conn: asyncpg.Connection, feed_id: int) -> dict[str, Any]:
    start = time.perf_counter()
    result = await ingest.run(conn, feed_id=feed_id, options=ingest.IngestOptions())
    ms = (time.perf_counter() - start) * 1000
    return {
        "ms": ms,
        "status": result.status,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "phases": result.timings,
    }


async def raw_copy(conn: asyncpg.Connection, path: Path) -> float:
    with path.open(encoding="utf-8") as f:
        header = next(csv.reader(f))
    await conn.execute("DROP TABLE IF EXISTS bench_raw")
    await conn.execute(
        "CREATE TABLE bench_raw (" + ", ".join(f"c{i} text" for i in range(len(header))) + ")"
    )
    start = time.perf_counter()
    await conn.copy_to_table("bench_raw", source=path, format="csv", header=True)
    return (time.perf_counter() - start) * 1000


async def measure_tier(n: int, repeat: int) -> dict[str, Any]:
    """Runs in its own process."""
    v1, v2 = write_feeds(n, OUT)
    live = OUT / f"tier-{n}-live.csv"
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    samples: dict[str, list[Any]] = {
        "first": [],
        "unchanged": [],
        "changed_10pct": [],
        "raw_copy": [],
    }
    for _ in range(repeat):
        conn = await db.connect(await fresh_database(f"pipeline_bench_{n}"))
        try:
            await migrate.migrate(conn)
            live.write_bytes(v1.read_bytes())
            dealer_id = await registry.upsert_dealer(conn, "Bench Dealer")
            feed_id = await registry.upsert_feed(
                conn, dealer_id=dealer_id, name="bench", source=str(live)
            )
            samples["first"].append(await timed_ingest(conn, feed_id))
            samples["unchanged"].append(await timed_ingest(conn, feed_id))
            live.write_bytes(v2.read_bytes())
            samples["changed_10pct"].append(await timed_ingest(conn, feed_id))
            samples["raw_copy"].append({"ms": await raw_copy(conn, v1)})
        finally:
            await conn.close()
    return {
        "skus": n,
        "bytes": v1.stat().st_size,
        "samples": samples,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": rss_start / 1024,
    }


def summarize(tier: dict[str, Any]) -> dict[str, Any]:
    n = tier["skus"]
    row: dict[str, Any] = {"skus": n, "peak_rss_mb": round(tier["peak_rss_mb"], 1)}
    for key, samples in tier["samples"].items():
        values = [s["ms"] for s in samples]
        row[key] = {"median_ms": round(statistics.median(values), 1),
                    "min_ms": round(min(values), 1), "max_ms": round(max(values), 1),
                    "ms_per_row": round(statistics.median(values) / n, 4)}  # fmt: skip
    row["first_vs_copy"] = round(row["first"]["median_ms"] / row["raw_copy"]["median_ms"], 2)
    row["first_phases"] = tier["samples"]["first"][len(tier["samples"]["first"]) // 2]["phases"]
    return row


def _cell(stats: dict[str, float]) -> str:
    return f"{stats['median_ms']:,.0f} ({stats['min_ms']:,.0f}-{stats['max_ms']:,.0f})"


def markdown(rows: list[dict[str, Any]], facts: dict[str, Any]) -> str:
    lines = [
        "# Ingest benchmark", "",
        f"`python -m bench.ingest` on {facts['machine']}; PostgreSQL {facts['postgres']}; "
        f"median of {facts['repeat']} (min-max).", "",
        "| SKUs | first load ms | ms/row | unchanged re-poll ms | 10% changed ms "
        "| raw COPY ms | first / COPY | peak RSS MB |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for r in rows:
        first, unchanged = _cell(r["first"]), _cell(r["unchanged"])
        changed, floor = _cell(r["changed_10pct"]), _cell(r["raw_copy"])
        lines.append(
            f"| {r['skus']:,} | {first} | {r['first']['ms_per_row']:.3f} | {unchanged} "
            f"| {changed} | {floor} | {r['first_vs_copy']}x | {r['peak_rss_mb']} |"
        )
    lines += ["", "First-load phases (ms, median run):", ""]
    lines += [f"- {r['skus']:,}: {r['first_phases']}" for r in rows]
    return "\n".join(lines) + "\n"


async def postgres_version() -> str:
    conn = await asyncpg.connect(queue.dsn())
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(asyncio.run(measure_tier(args.child, args.repeat))))
        return 0
    tiers = []
    for n in args.tiers:
        cmd = [
            sys.executable,
            "-m",
            "bench.ingest",
            "--child",
            str(n),
            "--repeat",
            str(args.repeat),
        ]
        done = subprocess.run(
            cmd,
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PIPELINE_LOG_LEVEL": "WARNING"},
        )
        tiers.append(summarize(json.loads(done.stdout.strip().splitlines()[-1])))
        print(f"{n:,} SKUs: {tiers[-1]}", flush=True)
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    facts = {"machine": machine, "postgres": asyncio.run(postgres_version()), "repeat": args.repeat}
    (OUT / "ingest.json").write_text(json.dumps({"facts": facts, "tiers": tiers}, indent=2))
    (OUT / "ingest.md").write_text(markdown(tiers, facts))
    print(markdown(tiers, facts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
