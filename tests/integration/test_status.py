"""`pipeline status`: queue depth, due and failing feeds, last runs, stalled workers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pipeline import cli, errors, queue, status
from pipeline.stages import ingest
from tests.chain_factories import OPTIONS, StatementCounter
from tests.factories import make_feed, sku, write_csv


async def pipeline_status(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = await cli.run(["status", *argv])
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, "")
    return captured.out


async def status_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(await pipeline_status(capsys, "--json"))
    return document


def section(text: str, title: str) -> list[str]:
    """The lines of the report's section starting with ``title``."""
    block = next(b for b in text.split("\n\n") if b.startswith(title))
    return block.splitlines()


async def worker(conn: asyncpg.Connection, *, silent_minutes: float = 0) -> int:
    worker_id: int = await conn.fetchval(
        "INSERT INTO procrastinate_workers (last_heartbeat)"
        " VALUES (now() - make_interval(mins => $1)) RETURNING id",
        silent_minutes,
    )
    return worker_id


async def start_job(conn: asyncpg.Connection, worker_id: int) -> int:
    """What a worker does when it takes the next ingest job: status doing, its worker set."""
    job_id: int = await conn.fetchval(
        "SELECT id FROM procrastinate_fetch_job_v2(ARRAY['ingest']::varchar[], $1)", worker_id
    )
    return job_id


async def test_empty_database_reports_every_section_empty(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    out = await pipeline_status(capsys)

    assert out == (
        "queue: no jobs\n\nfeeds due now: 0\n\nfailing feeds: none\n\n"
        "feeds: none (`pipeline feeds add` adds one)\n\n"
        "workers: 0 alive, 0 stalled (no heartbeat for 1m)\nstalled jobs: 0\n"
    )


async def test_queue_depth_counts_jobs_per_task_and_status(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds = [await make_feed(conn, f"https://a.test/{n}.csv", name=f"f{n}") for n in range(3)]
    for feed_id in feeds:
        await queue.defer_ingest(conn, feed_id)
    await queue.defer_match(conn, 1)
    await start_job(conn, await worker(conn))
    failed = await conn.fetchval(
        "SELECT id FROM procrastinate_jobs WHERE status = 'todo' AND task_name = 'ingest'"
        " ORDER BY id DESC LIMIT 1"
    )
    await conn.execute("SELECT procrastinate_finish_job_v1($1, 'failed', false)", failed)

    document = await status_json(capsys)
    out = await pipeline_status(capsys)

    assert document["queue"] == [
        {"task_name": "ingest", "status": "doing", "jobs": 1},
        {"task_name": "ingest", "status": "failed", "jobs": 1},
        {"task_name": "ingest", "status": "todo", "jobs": 1},
        {"task_name": "match", "status": "todo", "jobs": 1},
    ]
    assert [line.split() for line in section(out, "queue")] == [
        ["queue", "(jobs", "per", "task", "and", "status)"],
        ["task", "todo", "doing", "failed"],
        ["ingest", "1", "1", "1"],
        ["match", "1", "0", "0"],
    ]


async def test_due_feeds_are_listed_most_overdue_first_and_all_counted(
    conn: asyncpg.Connection,
) -> None:
    ids = [await make_feed(conn, f"https://a.test/{n}.csv", name=f"f{n}") for n in range(5)]
    await conn.execute(
        "UPDATE feeds SET next_run_at = now() - make_interval(mins => id::int) WHERE id = ANY($1)",
        ids[:3],
    )
    await conn.execute("UPDATE feeds SET next_run_at = now() + interval '1 minute' WHERE id = $1",
                       ids[3])  # fmt: skip
    await conn.execute("UPDATE feeds SET status = 'PAUSED' WHERE id = $1", ids[4])

    snap = await status.collect(conn, stalled_after=60, due_limit=2)

    assert snap.due_total == 3
    assert [feed["id"] for feed in snap.due] == [ids[2], ids[1]]
    lines = section(status.report(snap), "feeds due now")
    assert lines[0] == "feeds due now: 3"
    assert lines[2].split() == [str(ids[2]), "Acme", "Ammo/f2", "ACTIVE", "0", "3m", "ago"]
    assert lines[-1] == "  ... and 1 more"


async def test_failing_feed_is_shown_with_its_failures_and_last_error(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = await make_feed(conn, write_csv(tmp_path / "good.csv", [sku(1), sku(2)]), name="good")
    bad = await make_feed(conn, tmp_path / "bad.csv", name="bad")
    never = await make_feed(conn, tmp_path / "never.csv", name="never")
    await ingest.run(conn, feed_id=good, options=OPTIONS)
    (tmp_path / "bad.csv").write_text("")
    for _ in range(3):
        with pytest.raises(errors.EmptyFeed):
            await ingest.run(conn, feed_id=bad, options=OPTIONS)
    await conn.execute("UPDATE feeds SET status = 'FAILING', failure_count = 3 WHERE id = $1", bad)

    document = await status_json(capsys)
    out = await pipeline_status(capsys)

    [failing] = document["failing"]
    assert (failing["id"], failing["status"], failing["failure_count"]) == (bad, "FAILING", 3)
    assert failing["error"] == "feed is empty" and failing["last_success_at"] is None
    lines = section(out, "failing feeds")
    assert lines[0] == "failing feeds: 1"
    assert lines[2].split()[:4] == [str(bad), "Acme", "Ammo/bad", "FAILING"]
    assert lines[2].split()[4:6] == ["3", "-"] and lines[2].endswith(" feed is empty")
    runs = {r["id"]: r for r in document["last_runs"]}
    assert (runs[good]["status"], runs[good]["rows_total"]) == ("SUCCEEDED", 2)
    assert runs[good]["ms"] > 0
    assert (runs[bad]["status"], runs[never]["status"], runs[never]["run_id"]) == (
        "FAILED", None, None,
    )  # fmt: skip
    lines = section(out, "last run of each feed")
    assert [line.split()[:5] for line in lines[2:]] == [
        [str(bad), "Acme", "Ammo/bad", "FAILING", str(runs[bad]["run_id"])],
        [str(good), "Acme", "Ammo/good", "ACTIVE", str(runs[good]["run_id"])],
        [str(never), "Acme", "Ammo/never", "ACTIVE", "-"],
    ]
    assert lines[4].split()[5:] == ["never", "run", "-", "-"]


async def test_stalled_worker_and_the_job_it_was_doing_are_reported(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_id = await make_feed(conn, "https://a.test/f.csv")
    await queue.defer_ingest(conn, feed_id)
    live, stalled = await worker(conn), await worker(conn, silent_minutes=10)
    job_id = await start_job(conn, stalled)

    document = await status_json(capsys)
    out = await pipeline_status(capsys)

    assert [(w["id"], w["stalled"], w["doing"]) for w in document["workers"]] == [
        (live, False, 0), (stalled, True, 1),
    ]  # fmt: skip
    [job] = document["stalled_jobs"]
    assert (job["id"], job["task_name"], job["args"], job["worker_id"]) == (
        job_id, "ingest", {"feed_id": feed_id}, stalled,
    )  # fmt: skip
    assert section(out, "workers") == [
        "workers: 1 alive, 1 stalled (no heartbeat for 1m)",
        f"  worker {stalled}: last heartbeat 10m ago, 1 job(s) doing",
        "stalled jobs: 1",
        f'  job {job_id} ingest {{"feed_id": {feed_id}}} attempt 0, '
        f"on worker {stalled} (silent 10m)",
    ]


async def test_stalled_after_setting_decides_which_workers_are_stalled(
    conn: asyncpg.Connection, capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch
) -> None:
    await worker(conn, silent_minutes=10)
    env.setenv("PIPELINE_STALLED_AFTER", "900")

    document = await status_json(capsys)

    assert [w["stalled"] for w in document["workers"]] == [False]
    assert document["stalled_after"] == 900


async def test_job_left_doing_by_a_worker_that_is_gone_is_stalled(
    conn: asyncpg.Connection,
) -> None:
    await queue.defer_ingest(conn, await make_feed(conn, "https://a.test/f.csv"))
    gone = await worker(conn, silent_minutes=10)
    job_id = await start_job(conn, gone)
    await conn.execute("SELECT procrastinate_prune_stalled_workers_v1(60)")

    snap = await status.collect(conn, stalled_after=60)

    assert snap.workers == ()
    assert [(j["id"], j["worker_id"]) for j in snap.stalled_jobs] == [(job_id, None)]
    assert f"  job {job_id} ingest" in status.report(snap)
    assert status.report(snap).endswith("its worker is gone")


async def test_status_statements_do_not_grow_with_feeds(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    async def statements() -> int:
        with StatementCounter(conn) as counter:
            await status.collect(conn, stalled_after=60)
        return counter.count

    first = await make_feed(conn, write_csv(tmp_path / "f.csv", [sku(1)]), name="f0")
    await ingest.run(conn, feed_id=first, options=OPTIONS)
    one_feed = await statements()
    for n in range(1, 20):
        feed_id = await make_feed(conn, tmp_path / "f.csv", name=f"f{n}")
        await ingest.run(conn, feed_id=feed_id, options=OPTIONS)
        await queue.defer_ingest(conn, feed_id)

    assert await statements() == one_feed
