"""The scheduler and the queue under three replicas: tick-to-ingest latency and jobs per second.

    python -m bench.replicas [--feeds 1000] [--workers 3] [--rows 5] [--cron "* * * * * *"]

In a fresh database: ``--feeds`` tiny CSV feeds (``--rows`` SKUs each) spread
over dealers of ten feeds, served by a local aiohttp server, all first due on
the same whole second a few seconds ahead. ``--workers`` production worker
processes (``procrastinate --app=pipeline.queue.app worker``) start before the
due time; the script waits until the queue is empty, stops them with SIGTERM
and reads the answer from the database:

- due -> ingest start: ``feed_runs.started_at`` minus the feed's due time (the
  tick's cron granularity, the claim, the queue and the worker all included);
- jobs per second: every job that ran (ingest, match, benchmark, insight) over
  the wall time from the first job's start to the last one's end.
Uses DATABASE_URL's server, or the embedded one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from pipeline import db, migrate, queue

OUT = Path(__file__).resolve().parent / "out"
DATABASE = "pipeline_bench_replicas"
LEAD = 4.0  # seconds between the workers' start and the due time


def feed_body(feed: int, rows: int) -> bytes:
    lines = ["sku,title,price,availability,caliber,grain,rounds,brand"]
    lines += [
        f"R{feed}-{n},Acme 9mm Luger 115gr FMJ {n} - 50 Rounds,{15 + n}.99,in stock,"
        f"9mm Luger,115,50,Acme"
        for n in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


async def fresh_database() -> str:
    admin = await asyncpg.connect(queue.dsn())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await admin.close()
    return db.with_database(queue.dsn(), DATABASE)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    dsn = await fresh_database()
    conn = await db.connect(dsn)
    bodies = {i: feed_body(i, args.rows) for i in range(1, args.feeds + 1)}

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=bodies[int(request.match_info["n"])])

    web_app = web.Application()
    web_app.router.add_get("/feed/{n}", handle)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    workers: list[asyncio.subprocess.Process] = []
    try:
        await migrate.migrate(conn)
        await conn.execute(
            "INSERT INTO dealers (name) SELECT 'Dealer ' || d FROM generate_series(0, $1) d",
            (args.feeds - 1) // 10,
        )
        await conn.execute(
            "INSERT INTO feeds (dealer_id, name, source, format, poll_interval, next_run_at) "
            "SELECT d.id, 'feed ' || i, $1 || i, 'csv', interval '1 day', "
            "       date_trunc('second', now()) + make_interval(secs => $2) "
            "FROM generate_series(1, $3) i JOIN dealers d ON d.name = 'Dealer ' || (i - 1) / 10",
            f"http://127.0.0.1:{port}/feed/", LEAD + 1, args.feeds,
        )  # fmt: skip
        env = {
            **os.environ, "DATABASE_URL": dsn, "PIPELINE_SCHEDULER_CRON": args.cron,
            "PIPELINE_SCHEDULER_MAX_JITTER": "0", "PIPELINE_LOG_LEVEL": "WARNING",
            "PIPELINE_POOL_MAX_SIZE": "3", "PIPELINE_PERIODIC_TASKS": "true",
        }  # fmt: skip
        log = (OUT / "replicas-workers.log").open("wb")
        for _ in range(args.workers):
            workers.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "procrastinate", "--app=pipeline.queue.app", "worker",
                env=env, stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        start = time.monotonic()
        while True:
            await asyncio.sleep(0.2)
            runs = await conn.fetchval(
                "SELECT count(*) FROM feed_runs WHERE finished_at IS NOT NULL"
            )
            busy = await conn.fetchval(
                "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
                "AND task_name NOT LIKE 'scheduler.%'"
            )
            if runs == args.feeds and busy == 0:
                break
            if time.monotonic() - start > 600:
                raise SystemExit("the queue did not drain within 10 minutes")
        for w in workers:
            w.send_signal(signal.SIGTERM)
        codes = [await asyncio.wait_for(w.wait(), 60) for w in workers]
        return await results(conn, args, codes)
    finally:
        for w in workers:
            if w.returncode is None:
                w.kill()
        await conn.close()
        await runner.cleanup()


async def results(
    conn: asyncpg.Connection, args: argparse.Namespace, codes: list[int]
) -> dict[str, Any]:
    latency = await conn.fetchrow(
        "WITH due AS (SELECT f.id, f.next_run_at - f.poll_interval AS due_at FROM feeds f) "
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50, "
        "       percentile_cont(0.95) WITHIN GROUP (ORDER BY s) AS p95, "
        "       max(s) AS max, min(s) AS min, "
        "       max(e) AS last_finished "
        "FROM (SELECT extract(epoch FROM r.started_at - due.due_at) AS s, "
        "             extract(epoch FROM r.finished_at - due.due_at) AS e "
        "      FROM feed_runs r JOIN due ON due.id = r.feed_id) t"
    )
    jobs = await conn.fetch(
        "SELECT j.task_name, count(DISTINCT j.id) AS n, "
        "       min(e.at) FILTER (WHERE e.type = 'started') AS first_start, "
        "       max(e.at) FILTER (WHERE e.type IN ('succeeded', 'failed')) AS last_end "
        "FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id "
        "WHERE j.task_name NOT LIKE 'scheduler.%' AND j.status = 'succeeded' "
        "GROUP BY 1"
    )
    per_task = {r["task_name"]: r["n"] for r in jobs}
    first = min(r["first_start"] for r in jobs)
    last = max(r["last_end"] for r in jobs)
    wall = (last - first).total_seconds()
    total = sum(per_task.values())
    failed = await conn.fetchval("SELECT count(*) FROM feed_runs WHERE status <> 'SUCCEEDED'")
    return {
        "feeds": args.feeds, "workers": args.workers, "rows_per_feed": args.rows,
        "cron": args.cron, "exit_codes": codes, "runs_not_succeeded": failed,
        "due_to_ingest_start_s": {k: round(float(latency[k]), 3)
                                  for k in ("min", "p50", "p95", "max")},
        "due_to_last_ingest_end_s": round(float(latency["last_finished"]), 3),
        "jobs": per_task, "jobs_total": total, "wall_s": round(wall, 3),
        "jobs_per_s": round(total / wall, 1),
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rows", type=int, default=5)
    parser.add_argument("--cron", default="* * * * * *", help="the scheduler tick (with seconds)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args))
    (OUT / "replicas.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
