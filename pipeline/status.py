"""What an operator sees: ``pipeline status``, and the tables of ``pipeline dealers|feeds``.

``collect`` reads the queue, the schedule, the runs and the workers in one
read-only REPEATABLE READ transaction, so every section shows the same moment,
with a fixed number of statements whatever the number of feeds. Everything else
here turns plain values into text for a terminal, or into one JSON document.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg

from pipeline import sqlfiles

Q = sqlfiles.load("status")
# procrastinate's job statuses in lifecycle order (``aborting`` is legacy, kept for old rows).
JOB_STATUSES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted")
_SECRET_HEADER = re.compile(r"auth|token|key|secret|cookie|pass", re.IGNORECASE)
_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
MASK = "****"

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Snapshot:
    stalled_after: float
    queue: tuple[Row, ...]
    due_total: int
    due: tuple[Row, ...]
    failing: tuple[Row, ...]
    last_runs: tuple[Row, ...]
    workers: tuple[Row, ...]
    stalled_jobs: tuple[Row, ...]


async def collect(
    conn: asyncpg.Connection, *, stalled_after: float, due_limit: int = 20
) -> Snapshot:
    """Everything ``pipeline status`` shows: six statements, one snapshot."""

    async def rows(query: str, *args: object) -> tuple[Row, ...]:
        return tuple(dict(r) for r in await conn.fetch(Q[query], *args))

    async with conn.transaction(isolation="repeatable_read", readonly=True):
        queue = await rows("queue_depth")
        due = await rows("due_feeds", due_limit)
        failing = await rows("failing_feeds")
        last_runs = await rows("last_runs")
        workers = await rows("workers", stalled_after)
        stalled_jobs = await rows("stalled_jobs", stalled_after)
    due_total = due[0]["total"] if due else 0
    return Snapshot(stalled_after, queue, due_total, due, failing, last_runs, workers, stalled_jobs)


# -- small formatters --


def duration(seconds: float) -> str:
    """``45s``, ``4m 10s``, ``1h 30m``, ``2d 3h``: the two largest units, to the second."""
    left = round(seconds)
    parts = []
    for unit, size in _UNITS:
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join(parts[:2]) or "0s"


def until(delta: dt.timedelta | None) -> str:
    """A next run: ``due`` once its time has come, else ``in 4m 10s``."""
    if delta is None:
        return "-"
    return "due" if delta <= dt.timedelta(0) else f"in {duration(delta.total_seconds())}"


def ago(delta: dt.timedelta | None) -> str:
    return "-" if delta is None else f"{duration(max(delta.total_seconds(), 0))} ago"


def one_line(text: str | None, limit: int = 120) -> str:
    if not text:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> str:
    """Aligned columns; numbers to the right, everything else to the left."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    right = [
        bool(rows) and all(isinstance(r[i], int | float) or r[i] is None for r in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        ]
        return (indent + "  ".join(padded)).rstrip()

    return "\n".join([line(headers), *(line(r) for r in cells)])


def masked_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Request headers with the values of credential-like ones (auth, token, key...) masked."""
    return {k: MASK if _SECRET_HEADER.search(k) else v for k, v in (headers or {}).items()}


def _name(row: Mapping[str, Any]) -> str:
    return f"{row['dealer_name']}/{row['name']}"


# -- dealers and feeds --


def dealers_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "no dealers yet: `pipeline dealers add NAME` or `pipeline feeds add` creates one"
    body = [(r["id"], r["name"], r["tier"], r["feeds"], r["active_skus"]) for r in rows]
    return table(("id", "dealer", "tier", "feeds", "active SKUs"), body, indent="")


def feeds_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "no feeds"
    body = [_feed_row(r) for r in rows]
    headers = ("id", "dealer", "feed", "format", "interval", "status", "failures", "next run")
    return table((*headers, "last run", ""), body, indent="")


def _feed_row(r: Mapping[str, Any]) -> tuple[object, ...]:
    return (
        r["id"], r["dealer_name"], r["name"], r["format"] or "auto",
        duration(r["poll_interval"].total_seconds()), r["status"], r["failure_count"],
        "paused" if r["status"] == "PAUSED" else until(r["next_in"]),
        r["run_status"] or "never", "" if r["run_ago"] is None else ago(r["run_ago"]),
    )  # fmt: skip


def feed_details(feed: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> str:
    """Every setting of one feed (secrets masked), its schedule, and its latest runs."""
    lines = [f"feed {feed['id']}: {_name(feed)}"]
    lines += [f"  {k:<18} {v}" for k, v in _settings(feed) + _schedule(feed)]
    title = f"last {len(runs)} runs" if len(runs) > 1 else "last run" if runs else "no runs yet"
    lines += ["", title]
    if runs:
        lines.append(_runs_table(runs, feed["now"]))
        lines += [f"  run {r['id']}: {one_line(r['error'], 400)}" for r in runs if r["error"]]
    return "\n".join(lines)


def _settings(feed: Mapping[str, Any]) -> list[tuple[str, object]]:
    auth = f"{feed['auth_username']}:{MASK}" if feed["auth_username"] is not None else "none"
    headers = "; ".join(f"{k}: {v}" for k, v in masked_headers(feed["headers"]).items())
    return [
        ("dealer", f"{feed['dealer_name']} (id {feed['dealer_id']}, tier {feed['tier']})"),
        ("source", feed["source"]),
        ("format", feed["format"] or "detected from content"),
        ("profile", feed["profile"] or "-"),
        ("columns", ",".join(feed["columns"]) if feed["columns"] else "-"),
        ("auth", auth),
        ("headers", headers or "none"),
        ("trust identifiers", "yes" if feed["trust_identifiers"] else "no"),
    ]


def _when(ts: dt.datetime | None, now: dt.datetime, *, future: bool = False) -> str:
    if ts is None:
        return "never"
    relative = until(ts - now) if future else ago(now - ts)
    return f"{relative} ({ts.isoformat(sep=' ', timespec='seconds')})"


def _schedule(feed: Mapping[str, Any]) -> list[tuple[str, object]]:
    now = feed["now"]
    next_run = _when(feed["next_run_at"], now, future=True)
    return [
        ("poll interval", duration(feed["poll_interval"].total_seconds())),
        ("status", f"{feed['status']}, {feed['failure_count']} consecutive failures"),
        ("next run", "paused" if feed["status"] == "PAUSED" else next_run),
        ("last run", _when(feed["last_run_at"], now)),
        ("last success", _when(feed["last_success_at"], now)),
        ("fetch state", _fetch_state(feed)),
        ("created", _when(feed["created_at"], now)),
    ]


def _fetch_state(feed: Mapping[str, Any]) -> str:
    parts = [
        f"etag {feed['etag']}" if feed["etag"] else "",
        f"last-modified {feed['last_modified']}" if feed["last_modified"] else "",
        f"sha256 {bytes(feed['last_feed_hash']).hex()[:16]}…" if feed["last_feed_hash"] else "",
    ]
    return ", ".join(p for p in parts if p) or "none"


def _runs_table(runs: Sequence[Mapping[str, Any]], now: dt.datetime) -> str:
    counts = ("rows_total", "created", "updated", "unchanged", "deactivated", "quarantined")
    body = [(r["id"], ago(now - r["started_at"]), r["status"], *(r[k] for k in counts), r["ms"])
            for r in runs]  # fmt: skip
    headers = ("run", "started", "status", "rows", "created", "updated", "unchanged")
    return table((*headers, "deactiv.", "quarant.", "ms"), body)


# -- pipeline status --


def report(snap: Snapshot) -> str:
    """The text of ``pipeline status``: queue, due, failing, last runs, workers."""
    sections = [
        _queue_section(snap.queue),
        _due_section(snap),
        _failing_section(snap.failing),
        _runs_section(snap.last_runs),
        _workers_section(snap),
    ]
    return "\n\n".join(sections)


def _queue_section(queue: Sequence[Row]) -> str:
    if not queue:
        return "queue: no jobs"
    present = {r["status"] for r in queue}
    statuses = [s for s in JOB_STATUSES if s in present]
    counts = {(r["task_name"], r["status"]): r["jobs"] for r in queue}
    tasks = sorted({r["task_name"] for r in queue})
    body = [(t, *(counts.get((t, s), 0) for s in statuses)) for t in tasks]
    return "queue (jobs per task and status)\n" + table(("task", *statuses), body)


def _due_section(snap: Snapshot) -> str:
    head = f"feeds due now: {snap.due_total}"
    if not snap.due:
        return head
    more = snap.due_total - len(snap.due)
    body = [(r["id"], _name(r), r["status"], r["tier"], ago(r["overdue"])) for r in snap.due]
    text = head + "\n" + table(("id", "feed", "status", "tier", "due since"), body)
    return text + (f"\n  ... and {more} more" if more > 0 else "")


def _failing_section(failing: Sequence[Row]) -> str:
    if not failing:
        return "failing feeds: none"
    body = [_failing_row(r) for r in failing]
    headers = ("id", "feed", "status", "failures", "last success", "last failure", "error")
    return f"failing feeds: {len(failing)}\n" + table(headers, body)


def _failing_row(r: Row) -> tuple[object, ...]:
    return (
        r["id"], _name(r), r["status"], r["failure_count"], ago(r["success_ago"]),
        ago(r["failed_ago"]), one_line(r["error"], 100),
    )  # fmt: skip


def _runs_section(runs: Sequence[Row]) -> str:
    if not runs:
        return "feeds: none (`pipeline feeds add` adds one)"
    body = [_last_run_row(r) for r in runs]
    headers = ("id", "feed", "feed status", "run", "run status", "when", "rows", "ms")
    return "last run of each feed\n" + table(headers, body)


def _last_run_row(r: Row) -> tuple[object, ...]:
    return (
        r["id"], _name(r), r["feed_status"], r["run_id"], r["status"] or "never run",
        "" if r["run_id"] is None else ago(r["ago"]), r["rows_total"], r["ms"],
    )  # fmt: skip


def _workers_section(snap: Snapshot) -> str:
    stalled = [w for w in snap.workers if w["stalled"]]
    alive = len(snap.workers) - len(stalled)
    limit = duration(snap.stalled_after)
    lines = [f"workers: {alive} alive, {len(stalled)} stalled (no heartbeat for {limit})"]
    lines += [
        f"  worker {w['id']}: last heartbeat {ago(w['silent_for'])}, {w['doing']} job(s) doing"
        for w in stalled
    ]
    lines.append(f"stalled jobs: {len(snap.stalled_jobs)}")
    lines += [
        f"  job {j['id']} {j['task_name']} {json.dumps(j['args'], sort_keys=True)} "
        f"attempt {j['attempts']}, " + _job_worker(j)
        for j in snap.stalled_jobs
    ]
    return "\n".join(lines)


def _job_worker(job: Mapping[str, Any]) -> str:
    if job["worker_id"] is None:
        return "its worker is gone"
    return f"on worker {job['worker_id']} (silent {duration(job['silent_for'].total_seconds())})"


def to_json(snap: Snapshot) -> str:
    """One JSON document; durations in seconds, times in ISO 8601."""
    return json.dumps(dataclasses.asdict(snap), default=_json_value, indent=2)


def _json_value(value: object) -> object:
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
