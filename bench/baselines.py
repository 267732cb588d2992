"""The two yardsticks, over the same file as the pipeline's first load.

- The floor: PostgreSQL's own ``COPY ... FROM STDIN (FORMAT csv)`` of the file
  into a bare table of text columns with no index, no key and no parsing in
  Python. Nothing that keeps the data correct can be faster.
- The naive way, as the old system did it: read the CSV row by row and send one
  ``INSERT ... ON CONFLICT (sku) DO UPDATE`` per row, each its own round trip
  and its own commit. It is given every advantage: no normalization, no hashing,
  no history, text columns, one unique index.

Column names are ``c0``, ``c1``, ...: only the header's length comes from the file.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import asyncpg


def _columns(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    return [f"c{i}" for i in range(len(header))]


async def raw_copy(conn: asyncpg.Connection, path: Path) -> float:
    """Milliseconds to COPY ``path`` into a fresh bare table."""
    columns = _columns(path)
    await conn.execute("DROP TABLE IF EXISTS bench_floor")
    await conn.execute(f"CREATE TABLE bench_floor ({', '.join(c + ' text' for c in columns)})")
    start = time.perf_counter()
    await conn.copy_to_table("bench_floor", source=path, format="csv", header=True)
    return (time.perf_counter() - start) * 1000


async def naive_upserts(conn: asyncpg.Connection, path: Path) -> float:
    """Milliseconds to upsert ``path`` one row, one round trip, one commit at a time."""
    columns = _columns(path)
    await conn.execute("DROP TABLE IF EXISTS bench_naive")
    await conn.execute(
        f"CREATE TABLE bench_naive ({', '.join(c + ' text' for c in columns)}, UNIQUE (c0))"
    )
    values = ", ".join(f"${i + 1}" for i in range(len(columns)))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
    upsert = (
        f"INSERT INTO bench_naive ({', '.join(columns)}) VALUES ({values}) "  # noqa: S608 - c0..cN only
        f"ON CONFLICT (c0) DO UPDATE SET {updates}"
    )
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            await conn.execute(upsert, *row)
    return (time.perf_counter() - start) * 1000
