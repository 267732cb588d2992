"""Fixtures shared by every test layer. Unit tests use none of the database ones."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from pipeline import db, migrate, queue, settings
from tests import pg

SHARED_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "feeds"


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    # Not under pytest's basetemp: pytest deletes all but its last three, so a
    # second pytest run on the machine would delete this server's data directory
    # mid-session, and PostgreSQL shuts down when its lock file disappears.
    with (
        tempfile.TemporaryDirectory(prefix="pipeline-test-pg-") as tmp,
        pg.server(Path(tmp)) as dsn,
    ):
        yield dsn


@pytest.fixture(scope="session")
async def template_dsn(server_dsn: str) -> str:
    """A database migrated once, cloned by every test that needs one."""
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {pg.TEMPLATE}")
        await admin.execute(f"CREATE DATABASE {pg.TEMPLATE}")
    finally:
        await admin.close()
    dsn = db.with_database(server_dsn, pg.TEMPLATE)
    conn = await db.connect(dsn)
    try:
        await migrate.migrate(conn)
    finally:
        await conn.close()
    return dsn


@pytest.fixture
async def dsn(server_dsn: str, template_dsn: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test; the pipeline's queue points at it."""
    name = pg.next_database_name()
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {pg.TEMPLATE}")
    finally:
        await admin.close()
    url = db.with_database(server_dsn, name)
    queue.use_dsn(url)
    yield url
    await queue.close_pool()
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def conn(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await db.connect(dsn)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set PIPELINE_* variables for one test; settings are read again around it."""
    settings.get.cache_clear()
    yield monkeypatch
    settings.get.cache_clear()
