"""Ingest: from a feed's source to deduplicated dealer SKUs, in one transaction.

    fetch -> skip if unchanged -> parse/normalize (streamed) -> COPY staging
          -> quarantine duplicates -> merge -> deactivate absent -> record run
          -> defer the match job (same transaction)

A run is recorded in ``feed_runs`` before anything else, in its own commit, so
a failure at any point can still be written against it. Everything that
changes dealer SKUs happens in one transaction: a fetch or parse that fails
halfway rolls it all back, so existing SKUs stay active and nothing is
deactivated on the strength of a partial feed.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from pipeline import copy_bulk, errors, hashing, sqlfiles
from pipeline.feeds import fetch, normalize, parse
from pipeline.records import FetchResult, Offer, Quarantined

log = structlog.get_logger(__name__)
Q = sqlfiles.load("ingest")

STAGED_COLUMNS = (
    "row_number", "sku_hash", "identity_kind", "content_hash", "match_hash",
    "sku", "gtin", "title", "brand", "mpn", "caliber", "grain", "round_count",
    "bullet_type", "case_type", "price", "regular_price", "price_per_round",
    "in_stock", "quantity", "url", "extra", "raw",
)  # fmt: skip
QUARANTINE_COLUMNS = ("feed_run_id", "feed_id", "dealer_id", "row_number", "raw", "reasons")

# A stage's downstream: called inside the stage's transaction with (conn, dealer_id).
Downstream = Callable[[asyncpg.Connection, int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class IngestOptions:
    limits: fetch.FetchLimits = field(default_factory=fetch.FetchLimits)
    max_columns: int = 1000
    batch_rows: int = 5000
    work_dir: Path | None = None  # where fetched bodies are written; the system temp dir if None
    failing_after: int = 3  # consecutive failed runs that mark a feed FAILING
    backoff_cap: float = 3600.0  # seconds: the longest a failing feed waits for its next run


@dataclass(frozen=True, slots=True)
class IngestResult:
    run_id: int
    feed_id: int
    dealer_id: int
    status: str  # SUCCEEDED | UNCHANGED
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    quarantined: int = 0
    price_changes: int = 0
    bytes: int = 0
    copies: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)


class _Clock:
    """Milliseconds per phase, for the run record and the canonical log line."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._start = time.perf_counter()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round((time.perf_counter() - start) * 1000, 1)

    def total(self) -> dict[str, float]:
        return {**self.timings, "total": round((time.perf_counter() - self._start) * 1000, 1)}


async def run(
    conn: asyncpg.Connection,
    *,
    feed_id: int,
    options: IngestOptions,
    downstream: Downstream | None = None,
    job_id: int | None = None,
    attempt: int = 1,
) -> IngestResult:
    """Ingest one feed once. Raises a ``PipelineError`` after recording a FAILED run."""
    feed = await conn.fetchrow(Q["get_feed"], feed_id)
    if feed is None:
        raise errors.FeedError(f"feed {feed_id} does not exist")
    run_id = await conn.fetchval(Q["start_run"], feed_id, feed["dealer_id"], job_id, attempt)
    structlog.contextvars.bind_contextvars(
        feed_id=feed_id, dealer_id=feed["dealer_id"], run_id=run_id
    )
    clock = _Clock()
    fetched: FetchResult | None = None
    try:
        with tempfile.TemporaryDirectory(dir=options.work_dir, prefix="feed-") as tmp:
            with clock.phase("fetch"):
                fetched = await _fetch(feed, Path(tmp) / "body", options.limits)
            if _unchanged(feed, fetched):
                return await _finish_unchanged(conn, feed, run_id, fetched, clock)
            return await _load(conn, feed, run_id, fetched, clock, options, downstream)
    except (Exception, asyncio.CancelledError) as exc:
        # Cancelled: the worker is shutting down past its grace period; the job is
        # retried, and this run must not stay RUNNING.
        await _record_failure(conn, feed_id, run_id, exc, clock, fetched, options)
        raise


async def _fetch(feed: asyncpg.Record, dest: Path, limits: fetch.FetchLimits) -> FetchResult:
    auth = (feed["auth_username"], feed["auth_password"] or "") if feed["auth_username"] else None
    return await fetch.fetch(
        feed["source"],
        dest,
        limits=limits,
        etag=feed["etag"],
        last_modified=feed["last_modified"],
        auth=auth,
        headers=feed["headers"] or None,
    )


def _unchanged(feed: asyncpg.Record, fetched: FetchResult) -> bool:
    if fetched.not_modified:
        return True
    last = feed["last_feed_hash"]
    return last is not None and fetched.sha256 is not None and bytes.fromhex(fetched.sha256) == last


async def _finish_unchanged(
    conn: asyncpg.Connection,
    feed: asyncpg.Record,
    run_id: int,
    fetched: FetchResult,
    clock: _Clock,
) -> IngestResult:
    """Same bytes (or 304): no dealer SKU is read or written."""
    timings = clock.total()
    async with conn.transaction():
        await conn.execute(
            Q["finish_run"], run_id, "UNCHANGED", 0, 0, 0, 0, 0, 0, 0, fetched.size,
            _digest(fetched), timings,
        )  # fmt: skip
        await conn.execute(
            Q["record_success"], feed["id"], None, fetched.etag, fetched.last_modified
        )
    result = IngestResult(
        run_id, feed["id"], feed["dealer_id"], "UNCHANGED", bytes=fetched.size, timings=timings
    )
    _log_finished(result, reason="not_modified" if fetched.not_modified else "same_bytes")
    return result


async def _load(
    conn: asyncpg.Connection,
    feed: asyncpg.Record,
    run_id: int,
    fetched: FetchResult,
    clock: _Clock,
    options: IngestOptions,
    downstream: Downstream | None,
) -> IngestResult:
    assert fetched.path is not None
    feed_id, dealer_id = feed["id"], feed["dealer_id"]
    async with conn.transaction():
        await conn.execute(Q["create_staging"])
        with clock.phase("parse_copy"):
            staged = copy_bulk.BulkCopier(
                conn, "staged_skus", STAGED_COLUMNS, batch_rows=options.batch_rows
            )
            quarantine = copy_bulk.BulkCopier(
                conn, "quarantined_records", QUARANTINE_COLUMNS, batch_rows=options.batch_rows
            )
            rows = await _stage_rows(feed, run_id, fetched.path, options, staged, quarantine)
        with clock.phase("dedupe"):
            duplicates = _count(
                await conn.execute(Q["quarantine_duplicates"], run_id, feed_id, dealer_id)
            )
        with clock.phase("merge"):
            merged = await conn.fetchrow(Q["merge_staged_skus"], feed_id, dealer_id, run_id)
        with clock.phase("deactivate"):
            deactivated = await conn.fetchval(Q["deactivate_absent"], feed_id, run_id)
        result = IngestResult(
            run_id=run_id,
            feed_id=feed_id,
            dealer_id=dealer_id,
            status="SUCCEEDED",
            rows=rows,
            created=merged["created"],
            updated=merged["updated"],
            unchanged=merged["staged"] - merged["created"] - merged["updated"],
            deactivated=deactivated,
            quarantined=quarantine.rows + duplicates,
            price_changes=merged["price_changes"],
            bytes=fetched.size,
            copies=staged.copies + quarantine.copies,
            timings=clock.total(),
        )
        await _record_run(conn, result, _digest(fetched))
        await conn.execute(
            Q["record_success"], feed_id, _digest(fetched), fetched.etag, fetched.last_modified
        )
        if downstream is not None and result.changed:
            await downstream(conn, dealer_id)
    _log_finished(result)
    return result


async def _stage_rows(
    feed: asyncpg.Record,
    run_id: int,
    path: Path,
    options: IngestOptions,
    staged: copy_bulk.BulkCopier,
    quarantine: copy_bulk.BulkCopier,
) -> int:
    """Parse, normalize and hash every row, COPYing offers and quarantined rows in batches."""
    feed_id, dealer_id = feed["id"], feed["dealer_id"]
    rows = 0
    for item in parse.iter_rows(
        path,
        fmt=feed["format"],
        profile=feed["profile"],
        columns=feed["columns"],
        max_columns=options.max_columns,
    ):
        rows += 1
        outcome = item if isinstance(item, Quarantined) else normalize.normalize(item)
        if isinstance(outcome, Quarantined):
            await quarantine.add(
                (
                    run_id,
                    feed_id,
                    dealer_id,
                    outcome.row_number,
                    _text(outcome.raw),
                    list(outcome.reasons),
                )
            )
        else:
            await staged.add(_staged_row(dealer_id, outcome, item.raw))
    await staged.flush()
    await quarantine.flush()
    if staged.rows == 0:
        raise errors.FeedParseError(
            f"none of the feed's {rows} data rows could be loaded (every row was quarantined)"
        )
    return rows


def _staged_row(dealer_id: int, offer: Offer, raw: str) -> tuple[Any, ...]:
    kind, sku_hash, content, match = hashing.row_hashes(dealer_id, offer)
    row = (
        offer.row_number, sku_hash, kind, content, match,
        offer.sku, offer.gtin, offer.title, offer.brand, offer.mpn, offer.caliber, offer.grain,
        offer.round_count, offer.bullet_type, offer.case_type, offer.price, offer.regular_price,
        offer.price_per_round, offer.in_stock, offer.quantity, offer.url, offer.extra, raw,
    )  # fmt: skip
    if "\x00" in raw:  # PostgreSQL text cannot hold NUL; fields come from raw, so check once
        return tuple(_text(v) if isinstance(v, str) else v for v in row)
    return row


def _text(value: str) -> str:
    return value.replace("\x00", "\ufffd")


def _count(status: str) -> int:
    """Rows affected, from a command tag such as ``INSERT 0 3``."""
    return int(status.rsplit(" ", 1)[-1])


def _digest(fetched: FetchResult) -> bytes | None:
    return bytes.fromhex(fetched.sha256) if fetched.sha256 else None


async def _record_run(conn: asyncpg.Connection, r: IngestResult, feed_hash: bytes | None) -> None:
    await conn.execute(
        Q["finish_run"], r.run_id, r.status, r.rows, r.created, r.updated, r.unchanged,
        r.deactivated, r.quarantined, r.price_changes, r.bytes, feed_hash, r.timings,
    )  # fmt: skip


async def _record_failure(
    conn: asyncpg.Connection,
    feed_id: int,
    run_id: int,
    exc: BaseException,
    clock: _Clock,
    fetched: FetchResult | None,
    options: IngestOptions,
) -> None:
    """Mark the run FAILED and back the feed off; its SKUs are untouched (the load rolled back)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, asyncio.CancelledError):
        message = "cancelled: the worker stopped before the run finished; the job is retried"
    elif not isinstance(exc, errors.PipelineError):
        message = f"{type(exc).__name__}: {message}"
    timings = clock.total()
    try:
        async with conn.transaction():
            await conn.execute(
                Q["fail_run"], run_id, message, timings, fetched.size if fetched else 0
            )
            await conn.execute(
                Q["record_failure"], feed_id, options.failing_after, options.backoff_cap
            )
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as db_exc:
        # The connection itself may be what failed; the job is retried either way, and
        # the next attempt marks this run FAILED (see start_run).
        log.warning("ingest.failure_not_recorded", error=str(db_exc))
    log.error(
        "ingest.failed", error=message, error_type=type(exc).__name__, ms=timings["total"],
        retryable=getattr(exc, "retryable", True),
    )  # fmt: skip


def _log_finished(result: IngestResult, *, reason: str | None = None) -> None:
    log.info(
        "ingest.finished",
        status=result.status,
        reason=reason,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        deactivated=result.deactivated,
        quarantined=result.quarantined,
        price_changes=result.price_changes,
        bytes=result.bytes,
        ms=result.timings,
    )
