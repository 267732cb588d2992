"""Bad feeds end in a clear FAILED run or quarantined rows, and stored data survives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web

from pipeline import errors
from pipeline.feeds import fetch
from pipeline.stages import ingest
from tests import feed_server
from tests.factories import csv_text, make_feed, sku

GOOD = csv_text([sku(n) for n in range(1, 21)]).encode()
TIGHT = ingest.IngestOptions(
    limits=fetch.FetchLimits(
        connect_timeout=1, read_timeout=0.3, total_timeout=5, max_bytes=1_000_000,
        retries=1, backoff_base=0.01, backoff_max=0.05,
    )
)  # fmt: skip
XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><title>&lol3;</title>
<g:price>1.00 USD</g:price></item></channel></rss>"""


class Switch:
    """A dealer's feed URL whose answer the test changes between polls."""

    def __init__(self, handler: feed_server.Handler) -> None:
        self.handler = handler

    async def respond(self, request: web.Request) -> web.StreamResponse:
        return await self.handler(request)


@pytest.fixture
async def dealer(conn: asyncpg.Connection) -> AsyncIterator[tuple[Switch, int]]:
    """A feed served over HTTP, loaded once with 20 good SKUs."""
    switch = Switch(feed_server.feed(GOOD))
    async with feed_server.serve(switch.respond) as server:
        feed_id = await make_feed(conn, server.url("/feed"))
        await ingest.run(conn, feed_id=feed_id, options=TIGHT)
        yield switch, feed_id


async def fails_keeping_data(
    conn: asyncpg.Connection, feed_id: int, error: type[Exception], match: str
) -> asyncpg.Record:
    before = await conn.fetch("SELECT id, xmin::text, is_active FROM dealer_skus ORDER BY id")
    with pytest.raises(error, match=match):
        await ingest.run(conn, feed_id=feed_id, options=TIGHT)
    assert (
        await conn.fetch("SELECT id, xmin::text, is_active FROM dealer_skus ORDER BY id") == before
    )
    assert len(before) == 20
    run: asyncpg.Record = await conn.fetchrow("SELECT * FROM feed_runs ORDER BY id DESC LIMIT 1")
    assert run["status"] == "FAILED" and run["error"]
    return run


def body(data: bytes, content_type: str = "text/plain") -> feed_server.Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=data, content_type=content_type)

    return handler


@pytest.mark.parametrize(
    ("data", "error", "match"),
    [
        (b"", errors.EmptyFeed, "empty"),
        (b"sku,title,price\r\n", errors.EmptyFeed, "no data rows"),
        (bytes(range(256)) * 64, errors.FeedParseError, "not text"),
        (XML_BOMB, errors.FeedParseError, "(?i)DTD|entit"),
    ],
    ids=["empty", "header-only", "binary", "xml-bomb"],
)
async def test_unloadable_body_fails_the_run_and_keeps_data(
    conn: asyncpg.Connection,
    dealer: tuple[Switch, int],
    data: bytes,
    error: type[Exception],
    match: str,
) -> None:
    switch, feed_id = dealer
    switch.handler = body(data)

    await fails_keeping_data(conn, feed_id, error, match)


async def test_wrong_format_declared_fails_clearly(
    conn: asyncpg.Connection, dealer: tuple[Switch, int]
) -> None:
    switch, feed_id = dealer
    await conn.execute("UPDATE feeds SET format = 'json' WHERE id = $1", feed_id)
    switch.handler = body(GOOD + b"\n")  # new bytes, still CSV

    await fails_keeping_data(conn, feed_id, errors.FeedParseError, "(?i)json")


async def test_two_gigabyte_body_is_cut_at_the_cap(
    conn: asyncpg.Connection, dealer: tuple[Switch, int]
) -> None:
    switch, feed_id = dealer
    endless = feed_server.Endless()  # streams without Content-Length until the client hangs up
    switch.handler = endless.handle

    run = await fails_keeping_data(conn, feed_id, errors.FeedTooLarge, "cap")

    assert endless.sent < 50_000_000
    assert "cap" in run["error"]


async def test_server_that_never_answers_times_out(
    conn: asyncpg.Connection, dealer: tuple[Switch, int]
) -> None:
    switch, feed_id = dealer
    switch.handler = feed_server.stall()

    await fails_keeping_data(conn, feed_id, errors.FetchTimeout, "within")


async def test_bad_rows_are_quarantined_and_the_rest_loads(
    conn: asyncpg.Connection, dealer: tuple[Switch, int]
) -> None:
    switch, feed_id = dealer
    wide = "AMMO-WIDE," + ",".join(["x"] * 10_000)
    text = csv_text([sku(n) for n in range(1, 21)] + [sku(90, price="abc"), sku(91, price="-5")])
    switch.handler = body((text + wide + "\n" + csv_text([sku(92)]).split("\n", 1)[1]).encode())

    result = await ingest.run(conn, feed_id=feed_id, options=TIGHT)

    assert (result.status, result.created, result.unchanged, result.quarantined) == (
        "SUCCEEDED",
        1,
        20,
        3,
    )
    reasons = dict(await conn.fetch("SELECT row_number, reasons[1] FROM quarantined_records"))
    assert "abc" in reasons[21] and "negative" in reasons[22] and "10001 fields" in reasons[23]


async def test_every_row_quarantined_fails_without_deactivating(
    conn: asyncpg.Connection, dealer: tuple[Switch, int]
) -> None:
    switch, feed_id = dealer
    switch.handler = body(csv_text([sku(n, price="abc") for n in range(1, 21)]).encode())

    await fails_keeping_data(conn, feed_id, errors.FeedParseError, "quarantined")


async def test_fetch_cut_halfway_deactivates_nothing(
    conn: asyncpg.Connection, dealer: tuple[Switch, int]
) -> None:
    switch, feed_id = dealer
    switch.handler = feed_server.stall_mid_body(GOOD[: len(GOOD) // 2])

    await fails_keeping_data(conn, feed_id, errors.FetchError, ".")


async def test_not_modified_is_unchanged_with_no_sku_write(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    async with feed_server.serve(feed_server.feed(GOOD, etag='"v1"')) as server:
        feed_id = await make_feed(conn, server.url("/feed"))
        await ingest.run(conn, feed_id=feed_id, options=TIGHT)
        before = await conn.fetch("SELECT id, xmin::text FROM dealer_skus ORDER BY id")

        result = await ingest.run(conn, feed_id=feed_id, options=TIGHT)

        assert server.last().headers.get("If-None-Match") == '"v1"'
    assert result.status == "UNCHANGED"
    assert await conn.fetch("SELECT id, xmin::text FROM dealer_skus ORDER BY id") == before
