"""One tier, in its own process: the pipeline end to end through the worker, then the yardsticks.

    python -m bench.tier --skus 10000 --feeds bench/out/feeds --template NAME [--repeat 3]

Run by ``bench.run`` once per tier, so that the peak RSS it reports is the
tier's own. Each repetition gets a fresh database cloned from a migrated
template, then, in this process's event loop:

1. a local HTTP server serves the feeds; the tier dealer and its three rivals
   are registered with their URLs, and the rivals are loaded through the worker
   (not timed): the tier dealer arrives in a market;
2. four phases, each timed from just before the tier dealer's ingest job is
   deferred (in a transaction, as the scheduler does) until the worker, run
   until the queue is empty, has run the ingest, match, benchmark and insight
   jobs it caused: first load, unchanged re-poll (same bytes: the server
   answers 304), 1% of prices changed, 10% changed;
3. the floor (raw ``COPY`` of the same file) and, up to ``--naive-max`` SKUs,
   the naive per-row upsert, on the same server, in the same database.

Before the tier dealer arrives, the database is ANALYZEd: a pipeline that has
been running has statistics, and they describe the market without the new
dealer, as they would in production when a dealer's first feed lands.

A phase that takes more than ``PATIENCE`` times its target (or runs past the
tier's ``--limit``) is stopped: what it was doing is recorded (its jobs, its
ingest run, the statements still running), the statements are cancelled, and
the tier ends there.

Prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench import baselines, common, counting, feeds, observe, report, serve
from pipeline import db, queue, registry, synthetic

REP_DATABASE = "pipeline_bench_rep"
TIER_DEALER = "tier"
PHASES = ("first_load", "unchanged", "changed_1pct", "changed_10pct")

PATIENCE = 2.0  # a phase may take this many times its target before it is stopped
MIN_PHASE_SECONDS = 30.0
CUMULATIVE = "\n=== by cumulative time ===\n"  # separates the two listings of a profile


class Stopped(Exception):
    """A phase ran out of time; ``diagnosis`` says what it was doing."""

    def __init__(self, phase: str, after_s: float, diagnosis: dict[str, Any]) -> None:
        super().__init__(f"{phase} stopped after {after_s:.0f} s")
        self.info = {"phase": phase, "after_s": round(after_s, 1), "diagnosis": diagnosis}


@dataclass(frozen=True, slots=True)
class Feed:
    dealer_id: int
    feed_id: int


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


async def run_worker() -> None:
    """The real procrastinate worker, until no job is left."""
    await queue.app.run_worker_async(wait=False, install_signal_handlers=False, listen_notify=False)


async def run_worker_within(seconds: float) -> asyncio.Task[None] | None:
    """``run_worker`` for at most ``seconds``: None when it is done, else its task, running."""
    worker = asyncio.create_task(run_worker())
    done, _ = await asyncio.wait({worker}, timeout=max(seconds, 0.1))
    if worker in done:
        worker.result()
        return None
    return worker


async def stop_worker(conn: asyncpg.Connection, worker: asyncio.Task[None]) -> None:
    """Cancel the statements ``worker``'s jobs are running until it runs out of work;
    cancel the worker itself if that does not do."""
    for _ in range(10):
        await observe.cancel_running(conn)
        done, _ = await asyncio.wait({worker}, timeout=3.0)
        if done:
            break
    else:
        worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)


@dataclass(slots=True)
class Clock:
    """When the tier must be done by, and how long a phase may take."""

    deadline: float  # time.monotonic()
    phase_seconds: float

    def allowance(self) -> float:
        return min(self.phase_seconds, self.deadline - time.monotonic())


async def through_worker(
    conn: asyncpg.Connection,
    feed: Feed,
    phase: str,
    clock: Clock,
    profiler: cProfile.Profile | None = None,
) -> dict[str, Any]:
    """Defer the feed's ingest, run the worker until idle: the phase's time and what it did."""
    last_job = await observe.last_job(conn)
    before = counting.COUNTS.snapshot()
    counting.reset_profile()
    if profiler is not None:
        profiler.enable()
    start = time.perf_counter()
    async with queue.connection() as c, c.transaction():
        await queue.defer_ingest(c, feed.feed_id)
    still_running = await run_worker_within(clock.allowance())
    seconds = time.perf_counter() - start
    if profiler is not None:
        profiler.disable()
    if still_running is not None:
        diagnosis = await observe.diagnose(conn, last_job, feed.feed_id)
        diagnosis["slowest_statements"] = counting.top_statements()
        await stop_worker(conn, still_running)
        raise Stopped(phase, seconds, diagnosis)
    await asyncio.sleep(0)  # query loggers are called with call_soon: let them run
    jobs = await observe.jobs_since(conn, last_job)
    run = await observe.last_run(conn, feed.feed_id)
    assert run is not None
    return {
        "seconds": round(seconds, 4),
        "statements": counting.COUNTS.since(before),
        "slowest_statements": counting.top_statements(),
        "jobs": jobs,
        "ok": observe.all_succeeded(jobs) and run["status"] in ("SUCCEEDED", "UNCHANGED"),
        "run": {k: run[k] for k in ("status", "rows_total", "created", "updated", "unchanged",
                                    "timings")},
        "insights": await observe.insights(conn, feed.dealer_id),
    }  # fmt: skip


async def register(
    conn: asyncpg.Connection, server: serve.FeedServer, tier: feeds.TierFeeds
) -> tuple[Feed, list[Feed]]:
    """The tier dealer and its rivals, each with one feed served by ``server``."""

    async def one(name: str, slug: str, path: Path) -> Feed:
        dealer_id = await registry.upsert_dealer(conn, name)
        url = server.publish(slug, path)
        feed_id = await registry.upsert_feed(conn, dealer_id=dealer_id, name="main", source=url)
        return Feed(dealer_id, feed_id)

    style = synthetic.rows.dealer_style
    rivals = [await one(style(i).name, f"rival{i}", path) for i, path in enumerate(tier.rivals, 1)]
    return await one(style(0).name, TIER_DEALER, tier.v1), rivals


async def load_market(conn: asyncpg.Connection, rivals: list[Feed]) -> dict[str, Any]:
    """Ingest the rivals through the worker, untimed, then ANALYZE; their jobs' outcome."""
    last_job = await observe.last_job(conn)
    async with queue.connection() as c, c.transaction():
        for rival in rivals:
            await queue.defer_ingest(c, rival.feed_id)
    await run_worker()
    await conn.execute("ANALYZE")
    jobs = await observe.jobs_since(conn, last_job)
    skus = await conn.fetchval("SELECT count(*) FROM dealer_skus")
    return {"ok": observe.all_succeeded(jobs), "skus": skus, "jobs": jobs}


async def repetition(
    dsn: str,
    tier: feeds.TierFeeds,
    *,
    naive: bool,
    clock: Clock | None = None,
    profiler: cProfile.Profile | None = None,
) -> dict[str, Any]:
    """One repetition on the migrated, empty database ``dsn`` (see the module docstring).

    A phase that runs out of time ends the repetition: the result then has the
    phases done so far and ``stopped``.
    """
    clock = clock or Clock(time.monotonic() + 86400, phase_limit(tier.skus))
    await counting.install_pool(dsn)
    counting.count_queue_statements(queue.app)
    conn = await db.connect(dsn)  # the bench's own bookkeeping: not counted
    result: dict[str, Any] = {"phases": {}, "stopped": None}
    try:
        async with serve.serve() as server, queue.app.open_async():
            tier_feed, rivals = await register(conn, server, tier)
            result["market"] = await load_market(conn, rivals)
            versions = (tier.v1, tier.v1, tier.pct1, tier.pct10)
            for phase, path in zip(PHASES, versions, strict=True):
                server.publish(TIER_DEALER, path)
                use = profiler if phase == "first_load" else None
                result["phases"][phase] = await through_worker(conn, tier_feed, phase, clock, use)
        result["floor_ms"] = round(await baselines.raw_copy(conn, tier.v1), 2)
        naive_ms = await baselines.naive_upserts(conn, tier.v1) if naive else None
        result["naive_ms"] = None if naive_ms is None else round(naive_ms, 1)
    except Stopped as stopped:
        result["stopped"] = stopped.info
    finally:
        await conn.close()
        await queue.close_pool()
    return result


def phase_limit(n: int) -> float:
    """``PATIENCE`` times the tier's first-load target, and never under a floor."""
    return max(MIN_PHASE_SECONDS, PATIENCE * report.first_load_target(n))


async def measure(
    n: int,
    *,
    feeds_dir: Path,
    template: str,
    repeat: int,
    naive: bool,
    limit: float = 0.0,
    profile: Path | None = None,
    progress: Path | None = None,
) -> dict[str, Any]:
    """Up to ``repeat`` repetitions of tier ``n``, each on a fresh clone of ``template``.

    Phases are stopped ``limit`` seconds after the start (0: no limit) or
    after ``phase_limit``; a stopped repetition is the last. Each repetition is
    appended to ``progress`` (JSON lines), for a parent that may have to stop
    this process before the end.
    """
    tier = feeds.paths(n, feeds_dir)
    server = queue.dsn()  # before any repetition points the queue at its own database
    rss_start = peak_rss_mb()
    profiler = cProfile.Profile() if profile else None
    reps: list[dict[str, Any]] = []
    clock = Clock(time.monotonic() + (limit or 86400.0), phase_limit(n))
    for _ in range(repeat):
        dsn = await common.fresh_database(REP_DATABASE, server=server, template=template)
        try:
            reps.append(await repetition(dsn, tier, naive=naive, clock=clock, profiler=profiler))
            if progress is not None:
                line = json.dumps(reps[-1] | {"peak_rss_mb": peak_rss_mb()}, default=str)
                await asyncio.to_thread(_append, progress, line)
        finally:
            await common.drop_database(REP_DATABASE, server=server)
        if reps[-1]["stopped"]:
            break
    if profiler is not None and profile is not None:
        await asyncio.to_thread(profile.write_text, profile_text(profiler))
    return _result(tier, reps, rss_start=rss_start, peak=peak_rss_mb())


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def _result(
    tier: feeds.TierFeeds, reps: list[dict[str, Any]], *, rss_start: float, peak: float
) -> dict[str, Any]:
    return {
        "skus": tier.skus,
        "rival_skus": tier.rival_skus,
        "rivals": len(tier.rivals),
        "bytes": tier.v1.stat().st_size,
        "repetitions": reps,
        "rss_start_mb": rss_start,
        "peak_rss_mb": peak,
    }


def partial(
    n: int, feeds_dir: Path, progress: Path, *, limit: float, diagnosis: dict[str, Any]
) -> dict[str, Any]:
    """What a tier stopped after ``limit`` seconds had finished, and what it was doing."""
    lines = progress.read_text().splitlines() if progress.exists() else []
    reps = [json.loads(line) for line in lines]
    peak = max((r.pop("peak_rss_mb") for r in reps), default=0.0)
    result = _result(feeds.paths(n, feeds_dir), reps, rss_start=0.0, peak=peak)
    stopped = {"phase": "the tier (killed)", "after_s": round(limit, 1), "diagnosis": diagnosis}
    return result | {"stopped": stopped}


def profile_text(profiler: cProfile.Profile, top: int = 20) -> str:
    """The functions that took longest themselves, then cumulatively."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    out.write(CUMULATIVE)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--skus", type=int, required=True)
    parser.add_argument("--feeds", type=Path, required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive", action="store_true")
    parser.add_argument("--limit", type=float, default=0.0, help="stop any phase at this time")
    parser.add_argument("--profile", type=Path, help="cProfile the first load; write it here")
    parser.add_argument("--progress", type=Path, help="append each repetition here (JSON lines)")
    args = parser.parse_args()
    common.quiet_logs()
    result = asyncio.run(measure(
        args.skus, feeds_dir=args.feeds, template=args.template, repeat=args.repeat,
        naive=args.naive, limit=args.limit, profile=args.profile,
        progress=args.progress,
    ))  # fmt: skip
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
