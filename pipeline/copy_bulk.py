"""COPY rows into Postgres in bounded batches.

Rows arrive one at a time from a streaming parser; a ``BulkCopier`` holds at
most one batch in memory and sends each full batch with one binary ``COPY``
(asyncpg's ``copy_records_to_table``). The number of COPY statements is
``ceil(rows / batch_rows)``; everything else a stage does is a fixed number of
set-based statements over the staged rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg


class BulkCopier:
    """Buffers rows for one table and COPYs them ``batch_rows`` at a time."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        table: str,
        columns: Sequence[str],
        *,
        batch_rows: int = 5000,
    ) -> None:
        if batch_rows < 1:
            raise ValueError("batch_rows must be at least 1")
        self._conn = conn
        self._table = table
        self._columns = tuple(columns)
        self._batch_rows = batch_rows
        self._buffer: list[tuple[Any, ...]] = []
        self.rows = 0
        self.copies = 0

    async def add(self, row: tuple[Any, ...]) -> None:
        self._buffer.append(row)
        if len(self._buffer) >= self._batch_rows:
            await self.flush()

    async def flush(self) -> None:
        """Send what is buffered (nothing if the buffer is empty)."""
        if not self._buffer:
            return
        await self._conn.copy_records_to_table(
            self._table, records=self._buffer, columns=self._columns
        )
        self.rows += len(self._buffer)
        self.copies += 1
        self._buffer = []
