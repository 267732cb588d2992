"""Dealers and feeds: create or update them by name, find, list, pause and resume them.

The CLI (``pipeline dealers|feeds``), the demo and the bench use this.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

import asyncpg

from pipeline import errors, sqlfiles

Q = sqlfiles.load("registry")
FORMATS = ("csv", "tsv", "pipe", "json", "jsonl", "xml")
STATUSES = ("ACTIVE", "FAILING", "PAUSED")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_NUMBER = r"\d+(?:\.\d+)?"
_INTERVAL_PART = re.compile(rf"({_NUMBER})([smhd])")


async def upsert_dealer(conn: asyncpg.Connection, name: str, *, tier: int | None = None) -> int:
    if not name.strip():
        raise errors.ConfigError("a dealer needs a name")
    dealer_id: int = await conn.fetchval(Q["upsert_dealer"], name.strip(), tier)
    return dealer_id


async def upsert_feed(
    conn: asyncpg.Connection,
    *,
    dealer_id: int,
    name: str,
    source: str,
    fmt: str | None = None,
    profile: str | None = None,
    columns: Sequence[str] | None = None,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    trust_identifiers: bool | None = None,
    poll_interval: dt.timedelta | None = None,
) -> int:
    """The feed's id. ``poll_interval`` None keeps an existing feed's interval."""
    if fmt is not None and fmt not in FORMATS:
        raise errors.ConfigError(
            f"unknown feed format {fmt!r}; expected one of {', '.join(FORMATS)}"
        )
    user, password = auth if auth else (None, None)
    try:
        feed_id: int = await conn.fetchval(
            Q["upsert_feed"], dealer_id, name, source, fmt, profile,
            list(columns) if columns else None, user, password, headers, trust_identifiers,
            poll_interval,
        )  # fmt: skip
    except asyncpg.CheckViolationError as exc:
        raise errors.ConfigError(f"the database refuses feed {name!r}: {exc}") from exc
    return feed_id


def parse_interval(text: str) -> dt.timedelta:
    """``90s``, ``5m``, ``1h``, ``1d``, ``1h30m``, or a plain number of seconds."""
    value = text.strip().lower().replace(" ", "")
    if re.fullmatch(_NUMBER, value):
        return dt.timedelta(seconds=float(value))
    if not re.fullmatch(rf"(?:{_NUMBER}[smhd])+", value):
        raise errors.ConfigError(
            f"bad interval {text!r}: use e.g. 90s, 5m, 1h, 1d, 1h30m or a number of seconds"
        )
    parts = _INTERVAL_PART.findall(value)
    return dt.timedelta(seconds=sum(float(n) * _UNITS[unit] for n, unit in parts))


async def find_dealer(conn: asyncpg.Connection, name: str) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(Q["find_dealer"], name.strip())
    if row is None:
        raise errors.ConfigError(f"no dealer named {name!r} (`pipeline dealers list` lists them)")
    return row


async def list_dealers(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(Q["list_dealers"])
    return rows


async def find_feed(conn: asyncpg.Connection, ref: str) -> asyncpg.Record:
    """A feed by id (``12``) or by ``DEALER/FEED``, with its dealer's name and tier.

    The feed name is what follows the last slash, so a dealer name may hold one.
    """
    ref = ref.strip()
    row: asyncpg.Record | None
    if ref.isascii() and ref.isdigit() and len(ref) < 19:  # longer: no bigint, no feed
        row = await conn.fetchrow(Q["feed_by_id"], int(ref))
    elif "/" in ref:
        dealer, name = ref.rsplit("/", 1)
        row = await conn.fetchrow(Q["feed_by_name"], dealer.strip(), name.strip())
    else:
        raise errors.ConfigError(f"{ref!r} is not a feed: give its id or DEALER/FEED")
    if row is None:
        raise errors.ConfigError(f"no feed {ref!r} (`pipeline feeds list` lists them)")
    return row


async def list_feeds(
    conn: asyncpg.Connection, *, dealer: str | None = None, status: str | None = None
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(Q["list_feeds"], dealer, status)
    return rows


async def recent_runs(
    conn: asyncpg.Connection, feed_id: int, *, limit: int = 5
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(Q["recent_runs"], feed_id, limit)
    return rows


async def pause_feed(conn: asyncpg.Connection, feed_id: int) -> asyncpg.Record:
    """Status PAUSED: the scheduler skips the feed. Returns ``was``, ``status``, ``next_in``."""
    return await _set_status(conn, "pause_feed", feed_id)


async def resume_feed(conn: asyncpg.Connection, feed_id: int) -> asyncpg.Record:
    """Status ACTIVE, no failures, due now. Returns ``was``, ``status``, ``next_in``."""
    return await _set_status(conn, "resume_feed", feed_id)


async def _set_status(conn: asyncpg.Connection, query: str, feed_id: int) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(Q[query], feed_id)
    if row is None:
        raise errors.ConfigError(f"no feed {feed_id}")
    return row


async def latest_runs(conn: asyncpg.Connection, feed_ids: Sequence[int]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(Q["latest_runs"], list(feed_ids))
    return rows


async def feed_run(conn: asyncpg.Connection, run_id: int) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(Q["feed_run"], run_id)
    return row


async def quarantine_sample(
    conn: asyncpg.Connection, feed_ids: Sequence[int], *, limit: int = 8
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(Q["quarantine_sample"], list(feed_ids), limit)
    return rows
