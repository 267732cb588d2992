"""Counting the statements a phase sends, across the worker's connections.

Two drivers talk to Postgres during a phase, and each is counted where it sends:

- the pipeline's stages, through ``queue.pool()`` (asyncpg): the bench builds
  that pool itself, with an asyncpg query logger on every connection (each
  ``execute``/``fetch*``, and each BEGIN/COMMIT/SAVEPOINT of a transaction,
  counts one) and a connection class that counts each ``COPY`` separately (one
  COPY carries a whole batch of rows);
- procrastinate's own queries (fetch a job, finish it, register the worker,
  prune stalled workers...), through its psycopg connector, whose query methods
  are wrapped on the app's connector instance.

Each statement's time is added up under its name (``stage.query`` for the
named queries of ``sql/queries``, else its first line): the database side's
profile of a phase, next to the Python side's (cProfile).

Not counted: what the connections send while being set up (asyncpg's type
introspection for the json codecs, once per connection, and the pool is filled
before the clock starts) and the bench's own bookkeeping queries, which run on
a separate connection.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any

import asyncpg
import procrastinate

from pipeline import db, queue, sqlfiles

QUEUE_METHODS = (
    "execute_query_async", "execute_query_one_async", "execute_query_all_async",
    "execute_query_one_async_with_connection", "execute_query_all_async_with_connection",
)  # fmt: skip


@dataclass(slots=True)
class Counts:
    sql: int = 0  # statements on the pipeline's asyncpg connections
    copy: int = 0  # COPY operations on them
    queue: int = 0  # procrastinate's statements

    def snapshot(self) -> Counts:
        return Counts(self.sql, self.copy, self.queue)

    def since(self, before: Counts) -> dict[str, int]:
        return {f.name: getattr(self, f.name) - getattr(before, f.name) for f in fields(self)}


COUNTS = Counts()
# Seconds and calls per statement name, since the last ``reset_profile()``.
PROFILE: dict[str, list[float]] = {}
_NAMES = {sql: name for name, sql in sqlfiles.all_queries().items()}


def reset_profile() -> None:
    PROFILE.clear()


def top_statements(limit: int = 8) -> list[dict[str, Any]]:
    """The statements that took longest since ``reset_profile()``, by total seconds."""
    ranked = sorted(PROFILE.items(), key=lambda kv: -kv[1][1])[:limit]
    return [{"statement": name, "calls": int(calls), "seconds": round(seconds, 4)}
            for name, (calls, seconds) in ranked]  # fmt: skip


def statement_name(sql: str) -> str:
    """``stage.query`` for a named query (also when cut short, as pg_stat_activity cuts
    long ones), else its first line."""
    text = sql.strip()
    if name := _NAMES.get(text):
        return name
    if len(text) > 200:
        for known, name in _NAMES.items():
            if known.startswith(text):
                return name
    first = next((line for line in text.splitlines() if line.strip()), "")
    return first[:80]


class CountingConnection(asyncpg.Connection):  # type: ignore[misc]
    """An asyncpg connection that counts its COPY operations."""

    async def copy_records_to_table(self, *args: Any, **kwargs: Any) -> str:
        COUNTS.copy += 1
        result: str = await super().copy_records_to_table(*args, **kwargs)
        return result

    async def copy_to_table(self, *args: Any, **kwargs: Any) -> str:
        COUNTS.copy += 1
        result: str = await super().copy_to_table(*args, **kwargs)
        return result


def _log_statement(query: asyncpg.connection.LoggedQuery) -> None:
    COUNTS.sql += 1
    entry = PROFILE.setdefault(statement_name(query.query), [0, 0.0])
    entry[0] += 1
    entry[1] += query.elapsed


async def _init(conn: asyncpg.Connection) -> None:
    await db.init_connection(conn)
    conn.add_query_logger(_log_statement)


async def install_pool(dsn: str, *, size: int = 4) -> asyncpg.Pool:
    """Point the pipeline at ``dsn`` with a counting pool, filled before any clock starts.

    ``queue.pool()`` creates its pool lazily; ``queue.use_pool`` hands it this one.
    """
    queue.use_dsn(dsn)
    pool: asyncpg.Pool = await asyncpg.create_pool(
        dsn, min_size=size, max_size=size, init=_init, connection_class=CountingConnection
    )
    queue.use_pool(pool)
    return pool


def count_queue_statements(app: procrastinate.App) -> None:
    """Wrap the query methods of ``app``'s connector so each call counts one (idempotent)."""
    connector = app.connector
    if getattr(connector, "_bench_counting", False):
        return
    for name in QUEUE_METHODS:
        method = getattr(connector, name, None)
        if method is not None:
            setattr(connector, name, _counted(method))
    connector._bench_counting = True  # type: ignore[attr-defined]


def _counted(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        COUNTS.queue += 1
        return await method(*args, **kwargs)

    return wrapper
