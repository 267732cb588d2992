"""Named SQL queries from ``sql/queries/<stage>.sql``, in procrastinate's format.

A file holds blocks headed ``-- name --``; the comment lines right under a
header document the query. Queries use asyncpg's ``$n`` placeholders and are
loaded once, at import of the module that runs them.
"""

from __future__ import annotations

import re
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_HEADER = re.compile(r"^-- ([a-z0-9_]+) --$", re.MULTILINE)


def load(stage: str) -> dict[str, str]:
    """Every named query of ``sql/queries/<stage>.sql``."""
    text = (SQL_DIR / "queries" / f"{stage}.sql").read_text(encoding="utf-8")
    parts = _HEADER.split(text)
    queries = {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    if not queries:
        raise ValueError(f"no named queries in sql/queries/{stage}.sql")
    return queries


def all_queries() -> dict[str, str]:
    """Every named query of every stage, keyed ``stage.name`` (for the prepare-all test)."""
    found: dict[str, str] = {}
    for path in sorted((SQL_DIR / "queries").glob("*.sql")):
        for name, sql in load(path.stem).items():
            found[f"{path.stem}.{name}"] = sql
    return found
