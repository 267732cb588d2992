"""``make bench``: every dealer tier end to end, next to the floor and the naive way.

    python -m bench.run                  # 150 ... 100,000 SKUs, up to 3 repetitions
    python -m bench.run --quick          # up to 10,000 SKUs, one repetition
    python -m bench.run --million        # adds 1,000,000 SKUs (one repetition)
    python -m bench.run --tiers 150 800 --repeat 2 --out /tmp/bench

Writes results.json, results.md and results.png into ``--out`` (default:
bench/). Feeds are written under bench/out/feeds. Every repetition of a tier
runs in a process of its own (``bench.tier``), and a tier's peak RSS is the
highest of its processes'. Within ``--budget`` seconds: one repetition of every
tier, smallest first, each stopped at a limit that keeps time for the tiers
after it; then the profile of the largest tier that finished; then further
repetitions, smallest tiers first, while their last one still fits. Uses
DATABASE_URL, or the embedded server; every database it makes is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench import common, feeds, observe, page, report, tier
from pipeline import db, migrate, queue

FULL = (150, 800, 3_000, 5_000, 10_000, 25_900, 100_000)
QUICK = (150, 800, 3_000, 5_000, 10_000)
MILLION = 1_000_000
NAIVE_MAX = 5_000
TEMPLATE = "pipeline_bench_template"
HERE = Path(__file__).resolve().parent
GRACE = 60.0  # seconds a tier may overrun its limit (stopping a phase, cleaning up) before a kill


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiers up to 10,000, 1 repetition")
    parser.add_argument("--million", action="store_true", help="add the 1,000,000-SKU tier")
    parser.add_argument("--tiers", type=int, nargs="+", help="SKU counts (default: the tiers)")
    parser.add_argument("--repeat", type=int, help="repetitions per tier (default 3, quick 1)")
    parser.add_argument(
        "--budget", type=float, help="seconds for the tiers and the profile (default 470, quick 45)"
    )
    parser.add_argument("--naive-max", type=int, default=NAIVE_MAX)
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction,
                        help="cProfile the largest finished tier's first load in an extra run "
                             "(default: on, off with --quick)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    args.tiers = sorted(set(args.tiers or (QUICK if args.quick else FULL)))
    if args.million and MILLION not in args.tiers:
        args.tiers.append(MILLION)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.budget = args.budget or (45.0 if args.quick else 470.0) + (900.0 if args.million else 0.0)
    if args.profile is None:
        args.profile = not args.quick
    return args


async def prepare_template(server: str) -> None:
    dsn = await common.fresh_database(TEMPLATE, server=server)
    conn = await db.connect(dsn)
    try:
        await migrate.migrate(conn)
    finally:
        await conn.close()


def run_tier(
    n: int, args: argparse.Namespace, *, limit: float, profile: Path | None = None
) -> dict[str, Any]:
    """One repetition of tier ``n`` in a child process, which stops its phases at ``limit``.

    Should the child itself hang, it is killed ``GRACE`` seconds later. It
    writes each repetition to a progress file, so a killed tier still reports
    the repetitions it finished, and what it was doing (``diagnose``).
    """
    progress = common.OUT / f"progress-{n}.jsonl"
    progress.unlink(missing_ok=True)
    cmd = [
        sys.executable, "-m", "bench.tier", "--skus", str(n), "--feeds", str(feeds_dir()),
        "--template", TEMPLATE, "--repeat", "1", "--limit", f"{limit:.1f}",
        "--progress", str(progress),
    ]  # fmt: skip
    if n <= args.naive_max:
        cmd.append("--naive")
    if profile:
        cmd += ["--profile", str(profile)]
    env = {**os.environ, "DATABASE_URL": queue.dsn(), "PIPELINE_LOG_LEVEL": "WARNING"}
    try:
        done = subprocess.run(
            cmd, check=True, stdout=subprocess.PIPE, text=True, env=env, timeout=limit + GRACE
        )
    except subprocess.TimeoutExpired:
        diagnosis = asyncio.run(diagnose(queue.dsn()))
        asyncio.run(common.drop_database(tier.REP_DATABASE, server=queue.dsn()))
        return tier.partial(n, feeds_dir(), progress, limit=limit + GRACE, diagnosis=diagnosis)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def diagnose(server: str) -> dict[str, Any]:
    """What a tier that ran out of time was doing: its jobs, and the statements running."""
    conn = await asyncpg.connect(db.with_database(server, tier.REP_DATABASE))
    try:
        return await observe.diagnose(conn, 0)
    finally:
        await conn.close()


def feeds_dir() -> Path:
    return common.OUT / "feeds"


def minimum_seconds(n: int) -> float:
    """A rough floor on what one repetition of tier ``n`` costs: kept for the tiers to come."""
    return 6 + n * 0.0003


class Schedule:
    """The run's clock: what is left of the budget, and how long each tier took."""

    def __init__(self, budget: float) -> None:
        self.deadline = time.monotonic() + budget
        self.last: dict[int, float] = {}  # seconds of each tier's last repetition

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def run(self, n: int, args: argparse.Namespace, limit: float) -> dict[str, Any]:
        start = time.monotonic()
        result = run_tier(n, args, limit=limit)
        self.last[n] = time.monotonic() - start
        return result


def first_pass(args: argparse.Namespace, schedule: Schedule) -> dict[int, dict[str, Any]]:
    """One repetition of every tier, each keeping a minimum for the tiers after it."""
    raw = {}
    for i, n in enumerate(args.tiers):
        later = sum(minimum_seconds(m) for m in args.tiers[i + 1 :])
        raw[n] = schedule.run(n, args, max(minimum_seconds(n), schedule.left() - later))
        print(f"{n:>9,} SKUs: {report.headline(report.summarize(raw[n]))}, "
              f"{schedule.last[n]:6.1f} s", flush=True)  # fmt: skip
    return raw


def more_passes(args: argparse.Namespace, schedule: Schedule, raw: dict[int, Any]) -> None:
    """Further repetitions, smallest tiers first, while the last one of a tier still fits."""
    for _ in range(args.repeat - 1):
        for n in args.tiers:
            if n >= MILLION or raw[n].get("stopped") or _stopped(raw[n]):
                continue
            if schedule.last[n] > schedule.left():
                continue
            more = schedule.run(n, args, schedule.left())
            raw[n]["repetitions"] += more["repetitions"]
            raw[n]["peak_rss_mb"] = max(raw[n]["peak_rss_mb"], more["peak_rss_mb"])
            if more.get("stopped"):
                raw[n]["stopped"] = more["stopped"]
    for n in args.tiers:
        print(f"{n:>9,} SKUs: {len(raw[n]['repetitions'])} repetition(s)", flush=True)


def _stopped(raw: dict[str, Any]) -> bool:
    return any(r["stopped"] for r in raw["repetitions"])


def profile_largest(
    args: argparse.Namespace, schedule: Schedule, raw: dict[int, dict[str, Any]]
) -> str | None:
    """cProfile of the first load of the largest tier that finished one, in one more run."""
    done = [n for n, r in raw.items() if report.summarize(r)["finished"] and n < MILLION]
    if not done or schedule.last[max(done)] * 1.5 > schedule.left():
        return None
    n = max(done)
    path = common.OUT / f"profile-{n}.txt"
    print(f"profiling the first load of {n:,} SKUs ...", flush=True)
    profiled = report.summarize(run_tier(n, args, limit=schedule.left(), profile=path))
    took = (
        f"{profiled['phases']['first_load']['seconds']['median']:,.2f} s"
        if profiled["finished"] else "stopped"
    )  # fmt: skip
    head = f"cProfile of a {n:,}-SKU first load ({took} this time, with the profiler on), in "
    head += "the worker's process: the Python side; waiting on the database shows as "
    head += "`select.epoll.poll`. By own time:"
    by_own_time = path.read_text().split(tier.CUMULATIVE)[0]
    return head + "\n\n" + by_own_time.strip()


def write_feeds(tiers: list[int]) -> None:
    start = time.monotonic()
    for n in tiers:
        feeds.write(n, feeds_dir())
    print(f"feeds written in {time.monotonic() - start:.1f} s", flush=True)


def build(raw: list[dict[str, Any]], facts: dict[str, Any], profile: str | None) -> dict[str, Any]:
    tiers = [report.summarize(r) for r in raw]
    report.extrapolate_naive(tiers)
    return {"facts": facts, "tiers": tiers, "targets": report.targets(tiers), "profile": profile,
            "raw": raw}  # fmt: skip


def write_results(results: dict[str, Any], out: Path) -> None:
    from bench import chart

    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (out / "results.md").write_text(page.markdown(results))
    m, pg = results["facts"]["machine"], results["facts"]["postgres"]
    title = (f"Dealer price pipeline, first load end to end vs floor and naive "
             f"({m['cores']} cores, PostgreSQL {pg['version']})")  # fmt: skip
    chart.draw(results["tiers"], out / "results.png", title=title)


def facts(args: argparse.Namespace, argv: list[str] | None) -> dict[str, Any]:
    repeat = "1 repetition" if args.repeat == 1 else f"up to {args.repeat} repetitions per tier"
    return {
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": common.machine(),
        "worker_concurrency": (queue.app.worker_defaults or {}).get("concurrency", 1),
        "repeat_note": f"{repeat} (median and min-max), within a {args.budget:.0f} s budget",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.quiet_logs()
    start = time.monotonic()
    info = facts(args, argv)
    write_feeds(args.tiers)
    server = queue.dsn()
    asyncio.run(prepare_template(server))
    schedule = Schedule(args.budget)
    try:
        by_tier = first_pass(args, schedule)
        profile = profile_largest(args, schedule, by_tier) if args.profile else None
        more_passes(args, schedule, by_tier)
        raw = [by_tier[n] for n in args.tiers]
        info["postgres"] = asyncio.run(common.postgres_facts(server))
    finally:
        asyncio.run(common.drop_database(TEMPLATE, server=server))
    info["wall_seconds"] = round(time.monotonic() - start, 1)
    results = build(raw, info, profile)
    write_results(results, args.out)
    print(page.markdown(results).split("## How it was measured")[0])
    print(f"wrote {args.out / 'results.md'}, results.json and results.png", flush=True)
    # A tier stopped for time is a result; a job that failed or no insight is a bench failure.
    broken = [
        t["skus"] for t in report.finished(results["tiers"]) if not (t["ok"] and t["market_ok"])
    ]
    if broken:
        print(f"tiers with failed jobs or no insights: {broken}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
