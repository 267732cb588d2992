"""The guarded feed fetcher against real local servers (see tests/feed_server.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import functools
import gzip
import hashlib
import socket
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog

import pipeline
from pipeline.errors import FeedHTTPError, FeedTooLarge, FetchError, FetchTimeout
from pipeline.feeds import fetch
from pipeline.records import FetchResult
from tests import feed_server

CSV = b"sku,title,price\nA-1,9mm Luger 115gr FMJ 50rd,18.99\nB-2,.223 Rem 55gr 20rd,9.49\n"
FAST = fetch.FetchLimits(
    connect_timeout=1.0,
    read_timeout=0.3,
    total_timeout=5.0,
    max_bytes=1024 * 1024,
    retries=2,
    backoff_base=0.01,
    backoff_max=0.05,
)


def limits(**changes: Any) -> fetch.FetchLimits:
    return dataclasses.replace(FAST, **changes)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(directory: Path, keep: Path | None = None) -> list[Path]:
    """Files in ``directory`` other than ``keep``: partial downloads that were not cleaned up."""
    return [path for path in directory.iterdir() if path != keep]


@functools.cache
def gzip_bomb(size: int = 50 * 1024 * 1024) -> bytes:
    """``size`` zero bytes as one gzip member (about 50 KB for 50 MB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join([*parts, packer.flush()])


def refused_url() -> str:
    """A URL on a local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed"


# --- plain responses and validators ---------------------------------------------


async def test_200_writes_the_exact_bytes_and_their_sha256(tmp_path: Path) -> None:
    dest = tmp_path / "feed.csv"
    async with feed_server.serve(feed_server.feed(CSV)) as server:
        result = await fetch.fetch(server.url(), dest, limits=FAST)

    assert dest.read_bytes() == CSV
    assert (result.path, result.size, result.sha256) == (dest, len(CSV), sha(CSV))
    assert (result.not_modified, result.status) == (False, 200)
    assert leftovers(tmp_path, keep=dest) == []


async def test_200_returns_the_etag_and_last_modified_of_the_response(tmp_path: Path) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    handler = feed_server.feed(CSV, etag='"v7"', last_modified=stamp)
    async with feed_server.serve(handler) as server:
        result = await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)

    assert (result.etag, result.last_modified) == ('"v7"', stamp)


async def test_304_for_a_matching_etag_leaves_dest_untouched(tmp_path: Path) -> None:
    dest = tmp_path / "feed.csv"
    dest.write_bytes(b"the previous copy")
    async with feed_server.serve(feed_server.feed(CSV, etag='"v1"')) as server:
        result = await fetch.fetch(server.url(), dest, limits=FAST, etag='"v1"')
        sent = server.last().headers

    assert sent["If-None-Match"] == '"v1"'
    assert result == FetchResult(
        not_modified=True,
        path=None,
        size=0,
        sha256=None,
        etag='"v1"',
        last_modified=None,
        status=304,
    )
    assert dest.read_bytes() == b"the previous copy"
    assert leftovers(tmp_path, keep=dest) == []


async def test_if_modified_since_is_sent_and_a_bare_304_keeps_the_given_validators(
    tmp_path: Path,
) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    async with feed_server.serve(feed_server.status(304)) as server:
        result = await fetch.fetch(
            server.url(), tmp_path / "feed.csv", limits=FAST, etag='"v1"', last_modified=stamp
        )
        sent = server.last().headers

    assert sent["If-Modified-Since"] == stamp
    assert (result.not_modified, result.etag, result.last_modified) == (True, '"v1"', stamp)
    assert not (tmp_path / "feed.csv").exists()


async def test_a_changed_feed_answers_200_to_an_old_last_modified(tmp_path: Path) -> None:
    old, new = "Wed, 21 Oct 2015 07:28:00 GMT", "Thu, 22 Oct 2015 07:28:00 GMT"
    async with feed_server.serve(feed_server.feed(CSV, last_modified=new)) as server:
        result = await fetch.fetch(server.url(), tmp_path / "f.csv", limits=FAST, last_modified=old)

    assert (result.status, result.last_modified, result.sha256) == (200, new, sha(CSV))


# --- timeouts -------------------------------------------------------------------


async def test_server_that_never_answers_times_out_after_every_retry(tmp_path: Path) -> None:
    async with feed_server.serve(feed_server.stall()) as server:
        started = time.monotonic()
        with pytest.raises(FetchTimeout) as caught:
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)
        elapsed = time.monotonic() - started
        attempts = server.hits()

    assert attempts == 1 + FAST.retries
    assert str(caught.value) == f"no response from {server.url()} within 0.3 s"
    assert caught.value.retryable is True
    assert isinstance(caught.value.__cause__, aiohttp.ServerTimeoutError)
    assert 0.9 <= elapsed < 3.0
    assert leftovers(tmp_path) == []


async def test_server_that_stalls_mid_body_times_out_and_leaves_no_partial_file(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "feed.csv"
    async with feed_server.serve(feed_server.stall_mid_body(CSV[:12])) as server:
        with pytest.raises(FetchTimeout, match=r"sent nothing for 0\.3 s after 12 bytes"):
            await fetch.fetch(server.url(), dest, limits=limits(retries=1))
        attempts = server.hits()

    assert attempts == 2
    assert leftovers(tmp_path) == []


async def test_total_timeout_bounds_a_body_that_trickles_in(tmp_path: Path) -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await feed_server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            writer.write(b"x")  # one byte every 0.1 s: never silent for read_timeout
            await writer.drain()
            await asyncio.sleep(0.1)

    async with feed_server.serve_raw(trickle) as server:
        with pytest.raises(FetchTimeout, match=r"did not finish within 0\.6 s"):
            await fetch.fetch(
                server.url(), tmp_path / "f.csv", limits=limits(total_timeout=0.6, retries=0)
            )

    assert leftovers(tmp_path) == []


# --- the byte cap ----------------------------------------------------------------


async def test_endless_chunked_body_is_cut_off_at_the_cap(tmp_path: Path) -> None:
    endless = feed_server.Endless()
    started = time.monotonic()
    async with feed_server.serve(endless.handle) as server:
        with pytest.raises(FeedTooLarge, match=r"exceeds the 256 KB cap") as caught:
            await fetch.fetch(
                server.url(), tmp_path / "feed.csv", limits=limits(max_bytes=256 * 1024)
            )
        await asyncio.wait_for(endless.stopped.wait(), timeout=2.0)
        attempts = server.hits()

    assert time.monotonic() - started < 2.0
    assert attempts == 1  # too large is final: never retried
    assert caught.value.retryable is False
    assert leftovers(tmp_path) == []


async def test_content_length_over_the_cap_fails_before_reading_the_body(tmp_path: Path) -> None:
    async def headers_only(request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        response = aiohttp.web.StreamResponse()
        response.content_length = 10_000_000_000
        await response.prepare(request)
        await asyncio.sleep(feed_server.FOREVER)  # reading the body would time out instead
        return response

    async with feed_server.serve(headers_only) as server:
        with pytest.raises(FeedTooLarge, match=r"declares 10,000,000,000 bytes"):
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)
        attempts = server.hits()

    assert attempts == 1
    assert leftovers(tmp_path) == []


async def test_body_longer_than_its_content_length_is_a_clear_error(tmp_path: Path) -> None:
    async def liar(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await feed_server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + b"x" * 4_000_000)
        await writer.drain()

    async with feed_server.serve_raw(liar) as server:
        with pytest.raises(FetchError) as caught:
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)
        connections = server.connections

    assert connections == 1
    assert "sent a malformed HTTP response" in str(caught.value)
    assert len(str(caught.value)) < 500  # the junk the server sent is not copied into the error
    assert caught.value.retryable is False
    assert leftovers(tmp_path) == []


async def test_body_shorter_than_its_content_length_is_retried_then_fails(tmp_path: Path) -> None:
    async def short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await feed_server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsku,price\n")
        await writer.drain()

    async with feed_server.serve_raw(short) as server:
        with pytest.raises(FetchError, match=r"connection to .* failed") as caught:
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=limits(retries=1))
        connections = server.connections

    assert type(caught.value) is FetchError
    assert caught.value.retryable is True
    assert connections == 2
    assert leftovers(tmp_path) == []


# --- statuses and retries ---------------------------------------------------------


async def test_500_then_200_succeeds_on_the_retry(tmp_path: Path) -> None:
    handler = feed_server.sequence(feed_server.status(500), feed_server.feed(CSV))
    async with feed_server.serve(handler) as server:
        result = await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)
        attempts = server.hits()

    assert attempts == 2
    assert result.sha256 == sha(CSV)
    assert (tmp_path / "feed.csv").read_bytes() == CSV


async def test_503_forever_raises_a_retryable_http_error_after_the_retries(tmp_path: Path) -> None:
    async with feed_server.serve(feed_server.status(503)) as server:
        with pytest.raises(FeedHTTPError, match=r"answered HTTP 503 Service Unavailable") as caught:
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)
        attempts = server.hits()

    assert attempts == 1 + FAST.retries
    assert caught.value.retryable is True
    assert leftovers(tmp_path) == []


async def test_404_is_final_and_not_retried(tmp_path: Path) -> None:
    async with feed_server.serve(feed_server.status(404)) as server:
        with pytest.raises(FeedHTTPError, match=r"answered HTTP 404 Not Found") as caught:
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)
        attempts = server.hits()

    assert attempts == 1
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("retry_after", "at_least", "at_most"), [("0", 0.0, 0.5), ("1", 0.95, 2.0)]
)
async def test_429_waits_the_retry_after_seconds_then_succeeds(
    tmp_path: Path, retry_after: str, at_least: float, at_most: float
) -> None:
    too_many = feed_server.status(429, headers={"Retry-After": retry_after})
    handler = feed_server.sequence(too_many, feed_server.feed(CSV))
    patient = limits(backoff_base=0.001, backoff_max=5.0)
    async with feed_server.serve(handler) as server:
        started = time.monotonic()
        result = await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=patient)
        elapsed = time.monotonic() - started
        attempts = server.hits()

    assert attempts == 2
    assert result.sha256 == sha(CSV)
    assert at_least <= elapsed < at_most


async def test_429_retry_after_as_an_http_date_is_capped_at_backoff_max(tmp_path: Path) -> None:
    in_an_hour = email.utils.format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    too_many = feed_server.status(429, headers={"Retry-After": in_an_hour})
    handler = feed_server.sequence(too_many, feed_server.feed(CSV))
    async with feed_server.serve(handler) as server:
        started = time.monotonic()
        await fetch.fetch(
            server.url(), tmp_path / "feed.csv", limits=limits(backoff_base=0.001, backoff_max=0.3)
        )
        elapsed = time.monotonic() - started

    assert 0.29 <= elapsed < 1.5  # the date was honoured (not the 1 ms backoff), up to the cap


async def test_each_retry_is_logged_with_attempt_reason_and_delay(tmp_path: Path) -> None:
    handler = feed_server.sequence(
        feed_server.status(500), feed_server.status(502), feed_server.feed(CSV)
    )
    async with feed_server.serve(handler) as server:
        with structlog.testing.capture_logs() as logs:
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)

    retries = [entry for entry in logs if entry["event"] == "fetch.retry"]
    assert [entry["attempt"] for entry in retries] == [1, 2]
    assert [entry["reason"] for entry in retries] == [
        f"{server.url()} answered HTTP 500 Internal Server Error",
        f"{server.url()} answered HTTP 502 Bad Gateway",
    ]
    assert [entry["log_level"] for entry in retries] == ["warning", "warning"]
    assert all(0 <= entry["delay"] <= FAST.backoff_max for entry in retries)
    assert {entry["url"] for entry in retries} == {server.url()}


async def test_connection_refused_is_retried_then_fails(tmp_path: Path) -> None:
    with (
        structlog.testing.capture_logs() as logs,
        pytest.raises(FetchError, match=r"connection to .* failed") as caught,
    ):
        await fetch.fetch(refused_url(), tmp_path / "feed.csv", limits=limits(retries=1))

    assert type(caught.value) is FetchError
    assert caught.value.retryable is True
    assert [entry["event"] for entry in logs] == ["fetch.retry"]
    assert leftovers(tmp_path) == []


async def test_server_closing_the_connection_at_once_is_retried(tmp_path: Path) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await feed_server.read_request(reader)

    async with feed_server.serve_raw(hang_up) as server:
        with (
            structlog.testing.capture_logs() as logs,
            pytest.raises(FetchError, match=r"connection to .* failed: ServerDisconnected"),
        ):
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)
        connections = server.connections

    assert [entry["attempt"] for entry in logs] == [1, 2]
    # aiohttp itself retries an idempotent request once on a dropped connection
    # (RFC 9112, 9.3.1), so each of our attempts may open two.
    assert 1 + FAST.retries <= connections <= 2 * (1 + FAST.retries)


# --- gzip -------------------------------------------------------------------------


async def test_content_encoding_gzip_is_decoded(tmp_path: Path) -> None:
    handler = feed_server.feed(gzip.compress(CSV), headers={"Content-Encoding": "gzip"})
    async with feed_server.serve(handler) as server:
        result = await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)

    assert (tmp_path / "feed.csv").read_bytes() == CSV
    assert (result.size, result.sha256) == (len(CSV), sha(CSV))


async def test_gzip_file_body_is_decompressed_member_by_member(tmp_path: Path) -> None:
    first, second = CSV, b"C-3,12ga 00 Buck 5rd,6.99\n" * 5000
    body = gzip.compress(first) + gzip.compress(second)
    handler = feed_server.feed(body, content_type="application/gzip")
    async with feed_server.serve({"/feed.csv.gz": handler}) as server:
        result = await fetch.fetch(server.url("/feed.csv.gz"), tmp_path / "feed.csv", limits=FAST)

    assert (tmp_path / "feed.csv").read_bytes() == first + second
    assert (result.size, result.sha256) == (len(first + second), sha(first + second))


@pytest.mark.parametrize("wrapping", ["gzip file", "content-encoding"])
async def test_gzip_bomb_is_stopped_by_the_cap(tmp_path: Path, wrapping: str) -> None:
    bomb = gzip_bomb()
    headers = {"Content-Encoding": "gzip"} if wrapping == "content-encoding" else {}
    handler = feed_server.feed(bomb, content_type="application/gzip", headers=headers)
    started = time.monotonic()
    async with feed_server.serve(handler) as server:
        with pytest.raises(FeedTooLarge, match=r"exceeds the 1 MB cap"):
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)

    assert len(bomb) < FAST.max_bytes  # only the decoded size is over the cap
    assert time.monotonic() - started < 2.0
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x1f\x8bnot really gzip at all", r"is not a valid gzip file"),
        (gzip.compress(CSV)[:-12], r"is a truncated gzip file"),
    ],
)
async def test_broken_gzip_body_is_a_final_error(tmp_path: Path, body: bytes, message: str) -> None:
    async with feed_server.serve(feed_server.feed(body)) as server:
        with pytest.raises(FetchError, match=message) as caught:
            await fetch.fetch(server.url(), tmp_path / "feed.csv", limits=FAST)
        attempts = server.hits()

    assert (attempts, caught.value.retryable) == (1, False)
    assert leftovers(tmp_path) == []


# --- request details ----------------------------------------------------------------


async def test_basic_auth_is_sent_when_the_server_requires_it(tmp_path: Path) -> None:
    handler = feed_server.basic_auth("dealer", "s3cret", feed_server.feed(CSV))
    async with feed_server.serve(handler) as server:
        with pytest.raises(FeedHTTPError, match=r"answered HTTP 401") as caught:
            await fetch.fetch(server.url(), tmp_path / "a.csv", limits=FAST)
        with pytest.raises(FeedHTTPError, match=r"answered HTTP 401"):
            await fetch.fetch(
                server.url(), tmp_path / "b.csv", limits=FAST, auth=("dealer", "nope")
            )
        result = await fetch.fetch(
            server.url(), tmp_path / "c.csv", limits=FAST, auth=("dealer", "s3cret")
        )
        attempts = server.hits()

    assert caught.value.retryable is False
    assert attempts == 3  # a 401 is not retried
    assert result.sha256 == sha(CSV)


async def test_credentials_in_the_url_are_sent_as_basic_auth(tmp_path: Path) -> None:
    handler = feed_server.basic_auth("dealer", "s3cret", feed_server.feed(CSV))
    async with feed_server.serve(handler) as server:
        url = server.url().replace("http://", "http://dealer:s3cret@")
        result = await fetch.fetch(url, tmp_path / "feed.csv", limits=FAST)

    assert result.sha256 == sha(CSV)


async def test_custom_headers_and_the_user_agent_reach_the_server(tmp_path: Path) -> None:
    async with feed_server.serve(feed_server.feed(CSV)) as server:
        await fetch.fetch(
            server.url(), tmp_path / "a.csv", limits=FAST, headers={"X-Api-Key": "k1"}
        )
        default = server.last().headers
        await fetch.fetch(
            server.url(), tmp_path / "b.csv", limits=FAST, headers={"user-agent": "dealer-42"}
        )
        custom = server.last().headers

    assert default["X-Api-Key"] == "k1"
    assert default.getall("User-Agent") == [f"dealer-price-pipeline/{pipeline.__version__}"]
    assert custom.getall("User-Agent") == ["dealer-42"]


async def test_redirects_are_followed(tmp_path: Path) -> None:
    routes = {"/old": feed_server.redirect("/new"), "/new": feed_server.feed(CSV)}
    async with feed_server.serve(routes) as server:
        result = await fetch.fetch(server.url("/old"), tmp_path / "feed.csv", limits=FAST)

    assert result.sha256 == sha(CSV)


async def test_a_redirect_loop_stops_after_five_redirects(tmp_path: Path) -> None:
    async with feed_server.serve({"/loop": feed_server.redirect("/loop")}) as server:
        with pytest.raises(FetchError, match=r"more than 5 redirects") as caught:
            await fetch.fetch(server.url("/loop"), tmp_path / "feed.csv", limits=FAST)
        attempts = server.hits()

    assert caught.value.retryable is False
    assert attempts <= 1 + fetch.MAX_REDIRECTS  # one attempt: a redirect loop is not retried


async def test_errors_never_show_the_credentials_or_query_of_the_url(tmp_path: Path) -> None:
    async with feed_server.serve(feed_server.status(404)) as server:
        secret_url = server.url("/feed?key=topsecret").replace("http://", "http://me:hunter2@")
        with pytest.raises(FeedHTTPError) as caught:
            await fetch.fetch(secret_url, tmp_path / "feed.csv", limits=FAST)

    assert str(caught.value) == f"{server.url()}?… answered HTTP 404 Not Found"


async def test_a_shared_session_is_used_and_left_open(tmp_path: Path) -> None:
    async with (
        feed_server.serve(feed_server.feed(CSV)) as server,
        aiohttp.ClientSession() as session,
    ):
        first = await fetch.fetch(server.url(), tmp_path / "a.csv", limits=FAST, session=session)
        second = await fetch.fetch(server.url(), tmp_path / "b.csv", limits=FAST, session=session)
        still_open = not session.closed

    assert still_open
    assert first.sha256 == second.sha256 == sha(CSV)


async def test_a_failed_fetch_keeps_the_previous_dest(tmp_path: Path) -> None:
    dest = tmp_path / "feed.csv"
    dest.write_bytes(b"the previous copy")
    async with feed_server.serve(feed_server.Endless().handle) as server:
        with pytest.raises(FeedTooLarge):
            await fetch.fetch(server.url(), dest, limits=limits(max_bytes=100_000))

    assert dest.read_bytes() == b"the previous copy"
    assert leftovers(tmp_path, keep=dest) == []


# --- local files ----------------------------------------------------------------------


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "file-url"])
async def test_local_file_is_copied_with_its_sha256(tmp_path: Path, as_url: bool) -> None:
    source = tmp_path / "upload dir" / "feed.csv"
    source.parent.mkdir()
    source.write_bytes(CSV * 2000)
    where = source.as_uri() if as_url else str(source)

    first = await fetch.fetch(where, tmp_path / "a.csv", limits=FAST)
    again = await fetch.fetch(where, tmp_path / "b.csv", limits=FAST)

    assert (tmp_path / "a.csv").read_bytes() == CSV * 2000
    assert (first.size, first.sha256) == (len(CSV) * 2000, sha(CSV * 2000))
    assert (first.status, first.etag, first.last_modified, first.not_modified) == (
        None,
        None,
        None,
        False,
    )
    assert again.sha256 == first.sha256


async def test_local_gz_file_is_decompressed(tmp_path: Path) -> None:
    source = tmp_path / "feed.csv.gz"
    source.write_bytes(gzip.compress(CSV))

    result = await fetch.fetch(str(source), tmp_path / "feed.csv", limits=FAST)

    assert (tmp_path / "feed.csv").read_bytes() == CSV
    assert result.sha256 == sha(CSV)


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip-bomb"])
async def test_local_file_over_the_cap_leaves_no_partial_file(
    tmp_path: Path, compressed: bool
) -> None:
    source = tmp_path / "source"
    source.write_bytes(gzip_bomb() if compressed else bytes(FAST.max_bytes + 1))

    with pytest.raises(FeedTooLarge, match=r"exceeds the 1 MB cap"):
        await fetch.fetch(str(source), tmp_path / "feed.csv", limits=FAST)

    assert leftovers(tmp_path, keep=source) == []


async def test_missing_local_file_is_a_fetch_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "feed.csv"

    with pytest.raises(FetchError, match="No such file") as caught:
        await fetch.fetch(str(missing), tmp_path / "feed.csv", limits=FAST)

    assert str(missing) in str(caught.value)
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("ftp://dealer.example/feed.csv", r"unsupported scheme 'ftp'"),
        ("http://[::1/feed.csv", r"invalid feed URL: Invalid IPv6 URL"),
        ("http://127.0.0.1:99999/feed.csv", r"invalid feed URL: Port out of range"),
        ("https:///feed.csv", r"invalid feed URL: it has no host"),
        ("file://dealer.example/feed.csv", r"file URLs must be local"),
    ],
)
async def test_a_source_that_cannot_be_fetched_is_a_final_fetch_error(
    tmp_path: Path, source: str, message: str
) -> None:
    with pytest.raises(FetchError, match=message) as caught:
        await fetch.fetch(source, tmp_path / "feed.csv", limits=FAST)

    assert caught.value.retryable is False
