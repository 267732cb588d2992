"""The four real-world feeds through the whole ingest stage into the database."""

from __future__ import annotations

import asyncpg
import pytest

from pipeline.stages import ingest
from tests.conftest import SHARED_FEEDS
from tests.factories import make_feed
from tests.unit.test_shared_feeds import EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_shared_feed_loads_with_loaded_plus_quarantined_equal_to_rows(
    conn: asyncpg.Connection, name: str
) -> None:
    options, data_rows = EXPECTED[name]
    path = SHARED_FEEDS / name
    assert path.is_file(), f"shared feed missing: {path}"
    feed_id = await make_feed(conn, path, dealer=name, **options)

    result = await ingest.run(conn, feed_id=feed_id, options=ingest.IngestOptions())

    loaded = await conn.fetchval("SELECT count(*) FROM dealer_skus WHERE feed_id = $1", feed_id)
    quarantined = await conn.fetchval(
        "SELECT count(*) FROM quarantined_records WHERE feed_id = $1", feed_id
    )
    assert result.status == "SUCCEEDED" and result.rows == data_rows
    assert loaded + quarantined == data_rows
    assert (result.created, result.quarantined) == (loaded, quarantined)
    assert loaded > 0
