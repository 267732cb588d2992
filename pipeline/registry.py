"""Dealers and feeds: create or update them by name (the CLI and the demo use this)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from pipeline import errors, sqlfiles

Q = sqlfiles.load("registry")
FORMATS = ("csv", "tsv", "pipe", "json", "jsonl", "xml")


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
) -> int:
    if fmt is not None and fmt not in FORMATS:
        raise errors.ConfigError(
            f"unknown feed format {fmt!r}; expected one of {', '.join(FORMATS)}"
        )
    user, password = auth if auth else (None, None)
    feed_id: int = await conn.fetchval(
        Q["upsert_feed"], dealer_id, name, source, fmt, profile,
        list(columns) if columns else None, user, password, headers, trust_identifiers,
    )  # fmt: skip
    return feed_id


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
