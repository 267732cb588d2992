"""What every bench script shares: fresh databases, changed feeds, machine facts, quiet logs."""

from __future__ import annotations

import csv
import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg

from pipeline import db, logs, queue

OUT = Path(__file__).resolve().parent / "out"
SEED = 11
# Server settings worth knowing when reading a timing.
PG_SETTINGS = (
    "shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size",
    "synchronous_commit", "fsync", "wal_level", "max_wal_size", "jit",
    "max_parallel_workers_per_gather", "shared_preload_libraries",
)  # fmt: skip


def quiet_logs() -> None:
    """Warnings only: a line per job would cost more than some of the jobs."""
    logs.configure(fmt="console", level="WARNING")


def reprice(src: Path, dst: Path, *, every: int = 10, factor: float = 1.05) -> int:
    """Copy CSV ``src`` to ``dst`` with every ``every``-th data row's price times ``factor``."""
    changed = 0
    with (
        src.open(newline="", encoding="utf-8") as f_in,
        dst.open("w", newline="", encoding="utf-8") as f_out,
    ):
        reader, writer = csv.reader(f_in), csv.writer(f_out, lineterminator="\n")
        header = next(reader)
        writer.writerow(header)
        price = header.index("price")
        for i, row in enumerate(reader):
            if every and i % every == 0:
                row[price] = f"{float(row[price]) * factor:.2f}"
                changed += 1
            writer.writerow(row)
    return changed


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "arch": platform.machine(),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


async def postgres_facts(dsn: str) -> dict[str, Any]:
    """Version and the settings that shape a timing, from the server the bench used."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT name, setting, unit FROM pg_settings WHERE name = any($1::text[])",
            list(PG_SETTINGS),
        )
        version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    settings = {r["name"]: r["setting"] + (f" {r['unit']}" if r["unit"] else "") for r in rows}
    return {"version": str(version), "settings": settings}


def spread(values: Sequence[float], digits: int = 1) -> dict[str, float]:
    """Median, min and max of ``values``, rounded to ``digits``."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
    }


async def _admin(server: str | None, *statements: str) -> None:
    admin = await asyncpg.connect(server or queue.dsn())
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def fresh_database(name: str, *, server: str | None = None, template: str = "") -> str:
    """Drop ``name`` and create it empty (or as a copy of ``template``); its URL.

    ``server`` is any URL on the server (default: the pipeline's). Names are the
    bench's own constants, never input.
    """
    server = server or queue.dsn()
    create = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
    await _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", create)
    return db.with_database(server, name)


async def drop_database(name: str, *, server: str | None = None) -> None:
    await _admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
