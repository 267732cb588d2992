"""Migrations: idempotent, safe when two replicas run them at once, edits refused."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from pipeline import db, errors, migrate, sqlfiles


async def test_migrating_again_applies_nothing(conn: asyncpg.Connection) -> None:
    result = await migrate.migrate(conn)

    assert result.applied == ()
    names = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
    assert names == {migrate.PROCRASTINATE_SCHEMA} | {m.name for m in migrate.discover()}


async def test_two_replicas_migrating_at_once_apply_each_file_once(
    server_dsn: str, tmp_path: Path
) -> None:
    from tests import pg

    name = pg.next_database_name()
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        dsn = db.with_database(server_dsn, name)
        first, second = await db.connect(dsn), await db.connect(dsn)
        results = await asyncio.gather(migrate.migrate(first), migrate.migrate(second))
        await first.close()
        await second.close()
    finally:
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.close()

    applied = sorted(len(r.applied) for r in results)
    assert applied == [0, len(migrate.discover()) + 1]


async def test_an_edited_applied_migration_is_refused(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    for path in migrate.MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(path, tmp_path / path.name)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")

    with pytest.raises(errors.MigrationError, match="edited after it was applied"):
        await migrate.migrate(conn, tmp_path)


async def test_a_new_migration_file_is_applied_in_order(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    for path in migrate.MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "9999_probe.sql").write_text("CREATE TABLE probe (id int);")

    result = await migrate.migrate(conn, tmp_path)

    assert result.applied == ("9999_probe.sql",)
    assert await conn.fetchval("SELECT to_regclass('probe') IS NOT NULL")


async def test_misnamed_migration_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "add_things.sql").write_text("SELECT 1;")

    with pytest.raises(errors.MigrationError, match=r"NNNN_name\.sql"):
        migrate.discover(tmp_path)


async def test_every_named_query_prepares_against_the_schema(conn: asyncpg.Connection) -> None:
    await conn.execute(sqlfiles.load("ingest")["create_staging"].replace("ON COMMIT DROP", ""))
    for name, sql in sqlfiles.all_queries().items():
        if name == "ingest.create_staging":
            continue
        try:
            await conn.prepare(sql)
        except asyncpg.PostgresError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{name} does not prepare: {exc}")
