"""Apply procrastinate's schema and ``sql/migrations/NNNN_*.sql``, in order, once each.

Everything runs in one transaction that first takes a transaction-scoped
advisory lock, so two replicas migrating at once is safe: the second waits for
the first to commit, then finds every file recorded and applies nothing. A
transaction-scoped lock also holds behind a transaction-pooling PgBouncer,
where a session lock could be released on another server connection.

Each applied file is recorded with the SHA-256 of its bytes; a recorded file
whose bytes changed is refused, because the database no longer matches it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import procrastinate.schema
import structlog

from pipeline import errors, sqlfiles

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = sqlfiles.SQL_DIR / "migrations"
# Any constant works; it only has to be the same on every replica and unused elsewhere.
MIGRATION_LOCK_KEY = 0x70_69_70_65_6D_69_67  # "pipemig"
PROCRASTINATE_SCHEMA = "procrastinate_schema"
_FILE_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str
    checksum: str


@dataclass(frozen=True, slots=True)
class MigrateResult:
    applied: tuple[str, ...]
    already: int


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in order; a misnamed ``.sql`` file is an error, not skipped."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        if not _FILE_NAME.match(path.name):
            raise errors.MigrationError(f"migration file name {path.name!r} is not NNNN_name.sql")
        data = path.read_bytes()
        found.append(Migration(path.name, data.decode("utf-8"), hashlib.sha256(data).hexdigest()))
    return found


def _procrastinate_migration() -> Migration:
    sql = procrastinate.schema.SchemaManager.get_schema()
    return Migration(PROCRASTINATE_SCHEMA, sql, hashlib.sha256(sql.encode()).hexdigest())


async def migrate(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> MigrateResult:
    """Apply what is missing; refuse edited files. Returns the names applied."""
    migrations = discover(directory)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(CREATE_LEDGER)
        recorded = dict(await conn.fetch("SELECT name, checksum FROM schema_migrations"))
        applied = []
        if PROCRASTINATE_SCHEMA not in recorded:
            await _apply_procrastinate(conn)
            applied.append(PROCRASTINATE_SCHEMA)
        for migration in migrations:
            if _check_recorded(migration, recorded):
                continue
            await _apply(conn, migration)
            applied.append(migration.name)
    already = len(migrations) + 1 - len(applied)
    log.info("migrate.finished", applied=applied, already_applied=already)
    return MigrateResult(tuple(applied), already)


def _check_recorded(migration: Migration, recorded: dict[str, str]) -> bool:
    checksum = recorded.get(migration.name)
    if checksum is None:
        return False
    if checksum != migration.checksum:
        raise errors.MigrationError(
            f"migration {migration.name} was edited after it was applied "
            f"(recorded sha256 {checksum[:12]}, file {migration.checksum[:12]}); "
            "write a new migration instead of editing an applied one"
        )
    return True


async def _apply_procrastinate(conn: asyncpg.Connection) -> None:
    """procrastinate's schema, unless a previous tool already installed it."""
    exists = await conn.fetchval("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")
    migration = _procrastinate_migration()
    if not exists:
        await _execute(conn, migration)
    await _record(conn, migration)


async def _apply(conn: asyncpg.Connection, migration: Migration) -> None:
    await _execute(conn, migration)
    await _record(conn, migration)
    log.info("migrate.applied", migration=migration.name)


async def _execute(conn: asyncpg.Connection, migration: Migration) -> None:
    try:
        await conn.execute(migration.sql)
    except asyncpg.PostgresError as exc:
        raise errors.MigrationError(f"migration {migration.name} failed: {exc}") from exc


async def _record(conn: asyncpg.Connection, migration: Migration) -> None:
    await conn.execute(
        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
        migration.name,
        migration.checksum,
    )


async def ensure_current(conn: asyncpg.Connection, *, auto: bool) -> None:
    """Return if every migration is applied; else apply them (``auto``) or refuse clearly.

    The embedded default migrates itself on first use; a configured server is
    migrated deliberately, with ``make migrate``.
    """
    if await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"):
        recorded = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        if {m.name for m in discover()} <= recorded:
            return
    if not auto:
        raise errors.MigrationError("the database schema is not up to date: run `make migrate`")
    await migrate(conn)
