"""What the bench reads back from a repetition's database: jobs, runs, insights, stragglers.

These run on the bench's own connection, not the worker's pool, so the
statement counts of a phase do not include them.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from bench import counting

# Per task and status since a job id: how many, and the seconds they ran
# (started -> finished, or -> now for a job still running).
JOBS = """
SELECT j.task_name, j.status::text AS status, count(*)::integer AS jobs,
       coalesce(sum(extract(epoch FROM coalesce(done.at, clock_timestamp()) - started.at)), 0)
           ::float8 AS seconds
FROM procrastinate_jobs j
LEFT JOIN LATERAL (SELECT max(e.at) AS at FROM procrastinate_events e
                   WHERE e.job_id = j.id AND e.type = 'started') started ON true
LEFT JOIN LATERAL (SELECT max(e.at) AS at FROM procrastinate_events e
                   WHERE e.job_id = j.id AND e.type IN ('succeeded', 'failed')) done ON true
WHERE j.id > $1
GROUP BY 1, 2
"""
LAST_RUN = """
SELECT status, rows_total, created, updated, unchanged, quarantined, timings
FROM feed_runs WHERE feed_id = $1 ORDER BY id DESC LIMIT 1
"""
INSIGHTS = """
SELECT (SELECT count(*) FROM dealer_insights WHERE is_active AND dealer_id = $1)::integer AS tier,
       (SELECT count(*) FROM dealer_insights WHERE is_active)::integer AS market,
       (SELECT coalesce(jsonb_object_agg(type, n), '{}'::jsonb)
        FROM (SELECT type, count(*) AS n FROM dealer_insights
              WHERE is_active AND dealer_id = $1 GROUP BY type) t) AS tier_by_type
"""
MAX_JOB = "SELECT coalesce(max(id), 0) FROM procrastinate_jobs"
# The worker's statements still running in this database (the bench's own backends).
RUNNING = """
SELECT pid, query, extract(epoch FROM clock_timestamp() - query_start)::float8 AS seconds
FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
"""
CANCEL = """
SELECT count(*) FILTER (WHERE pg_cancel_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
"""


async def last_job(conn: asyncpg.Connection) -> int:
    found: int = await conn.fetchval(MAX_JOB)
    return found


async def jobs_since(conn: asyncpg.Connection, job_id: int) -> dict[str, dict[str, Any]]:
    """Per task: how many jobs, by status, and the seconds they ran."""
    out: dict[str, dict[str, Any]] = {}
    for row in await conn.fetch(JOBS, job_id):
        task = out.setdefault(row["task_name"], {"jobs": 0, "seconds": 0.0, "status": {}})
        task["jobs"] += row["jobs"]
        task["seconds"] = round(task["seconds"] + row["seconds"], 4)
        task["status"][row["status"]] = row["jobs"]
    return out


def all_succeeded(jobs: dict[str, dict[str, Any]]) -> bool:
    return all(set(task["status"]) == {"succeeded"} for task in jobs.values())


async def last_run(conn: asyncpg.Connection, feed_id: int) -> dict[str, Any] | None:
    run = await conn.fetchrow(LAST_RUN, feed_id)
    return None if run is None else dict(run)


async def insights(conn: asyncpg.Connection, dealer_id: int) -> dict[str, Any]:
    return dict(await conn.fetchrow(INSIGHTS, dealer_id))


async def diagnose(
    conn: asyncpg.Connection, job_id: int, feed_id: int | None = None
) -> dict[str, Any]:
    """A phase that ran out of time: its jobs so far, its ingest run, what is running."""
    running = await conn.fetch(RUNNING)
    return {
        "jobs": await jobs_since(conn, job_id),
        "run": None if feed_id is None else await last_run(conn, feed_id),
        "running": [{"statement": counting.statement_name(r["query"]),
                     "seconds": round(r["seconds"], 1)} for r in running],
    }  # fmt: skip


async def cancel_running(conn: asyncpg.Connection) -> int:
    """Cancel the statements the worker is running in this database; how many."""
    cancelled: int = await conn.fetchval(CANCEL)
    return cancelled
