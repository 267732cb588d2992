"""Fetch one feed to a file on disk, guarded so a bad server cannot hurt the worker.

``fetch(source, dest)`` reads an http(s) URL, a ``file://`` URL or a local path
and leaves the decoded body in ``dest``. The guards (design invariant 8):

- **Time.** Every HTTP request has a connect timeout, a read timeout (silence
  before the headers or between body chunks) and a total timeout. A server that
  accepts and never answers raises ``FetchTimeout``, never hangs a worker.
- **Size.** The byte cap applies to the *decoded* body and is enforced while
  streaming, so a lying or missing Content-Length, a chunked body that never
  ends and a gzip bomb are all stopped as soon as the cap is passed
  (``FeedTooLarge``). A declared Content-Length over the cap fails before any
  body is read.
- **Memory.** The body goes to disk in 64 KiB chunks while its SHA-256 and size
  are computed; decompression output is bounded per step, so memory stays flat
  whatever the body size.
- **Disk.** The body is written to a temporary ``.part`` file beside ``dest``
  and renamed over it only when complete: on any failure the partial file is
  deleted and a previous ``dest`` is left as it was. A 304 never touches it.
- **Retries.** Timeouts, connection errors, 5xx and 429 are retried with
  exponential backoff and full jitter (429 honours Retry-After, capped at
  ``backoff_max``); other 4xx and ``FeedTooLarge`` are not. Each retry logs
  ``fetch.retry``.
- **Errors.** aiohttp and OS exceptions are translated once, here, into
  ``pipeline.errors`` classes whose ``retryable`` attribute tells the job layer
  whether trying again later can help. Messages never contain the URL's
  credentials or query string.

A body that is itself a gzip file (magic ``1f 8b``, e.g. ``feed.csv.gz``) is
decompressed while streaming, for URLs and local files alike; HTTP
``Content-Encoding`` is decoded by aiohttp. A local file has no validators:
its result carries ``etag=None`` and ``last_modified=None`` and the feed hash
(``sha256``) alone decides whether it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import random
import re
import tempfile
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import aiohttp
import multidict
import structlog
import yarl

import pipeline
from pipeline.errors import FeedHTTPError, FeedTooLarge, FetchError, FetchTimeout
from pipeline.records import FetchResult

log = structlog.get_logger(__name__)

USER_AGENT = f"dealer-price-pipeline/{pipeline.__version__}"
CHUNK_SIZE = 64 * 1024
MAX_REDIRECTS = 5
GZIP_MAGIC = b"\x1f\x8b"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")

_E = TypeVar("_E", bound=FetchError)


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one fetch: time, size and retries."""

    connect_timeout: float = 10.0  # seconds to connect
    read_timeout: float = 30.0  # seconds of silence before headers / between body chunks
    total_timeout: float = 300.0  # one whole request, body included
    max_bytes: int = 200 * 1024 * 1024  # cap on the decoded body
    retries: int = 3  # extra attempts on timeouts, connection errors, 5xx and 429
    backoff_base: float = 0.5  # seconds; exponential with full jitter
    backoff_max: float = 10.0  # cap on one backoff delay and on Retry-After


async def fetch(
    source: str,
    dest: Path,
    *,
    limits: FetchLimits = FetchLimits(),
    etag: str | None = None,
    last_modified: str | None = None,
    auth: tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    session: aiohttp.ClientSession | None = None,
) -> FetchResult:
    """Fetch ``source`` into ``dest``; see the module docstring for the guards."""
    scheme = _scheme(source)
    if scheme in ("http", "https"):
        url, auth = _http_url(source, auth)
        request = _request_options(limits, etag, last_modified, auth, headers)
        if session is not None:
            return await _fetch_url(session, url, dest, limits, request)
        async with aiohttp.ClientSession() as own:
            return await _fetch_url(own, url, dest, limits, request)
    path = _local_path(source, scheme)
    return await asyncio.to_thread(_copy_file, path, dest, limits)


def _scheme(source: str) -> str:
    """The URL scheme, lower-cased; "" for a plain path (a one-letter scheme is a drive)."""
    match = _SCHEME.match(source)
    return match.group(1).lower() if match and len(match.group(1)) > 1 else ""


# --- HTTP -------------------------------------------------------------------


class _AttemptFailed(Exception):
    """An attempt failed with ``error``; retried if ``error.retryable``. Never escapes ``fetch``."""

    def __init__(self, error: FetchError, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay  # what the server asked for (Retry-After), else None


def _http_url(source: str, auth: tuple[str, str] | None) -> tuple[str, tuple[str, str] | None]:
    """Check the URL and move ``user:password@`` out of it; an explicit ``auth`` wins."""
    try:
        url = yarl.URL(source)
    except ValueError as exc:  # the message names the fault, never the credentials
        raise _final(FetchError(f"invalid feed URL: {exc}")) from exc
    if not url.host:
        raise _final(FetchError("invalid feed URL: it has no host"))
    if url.user is None:
        return source, auth
    return str(url.with_user(None)), auth or (url.user, url.password or "")


def _request_options(
    limits: FetchLimits,
    etag: str | None,
    last_modified: str | None,
    auth: tuple[str, str] | None,
    headers: Mapping[str, str] | None,
) -> dict[str, Any]:
    sent = multidict.CIMultiDict({"User-Agent": USER_AGENT})
    sent.update(headers or {})
    if etag:
        sent["If-None-Match"] = etag
    if last_modified:
        sent["If-Modified-Since"] = last_modified
    if auth:  # aiohttp drops it on a redirect to another origin
        sent["Authorization"] = aiohttp.encode_basic_auth(*auth)
    return {
        "headers": sent,
        "timeout": _client_timeout(limits),
        "allow_redirects": True,
        "max_redirects": MAX_REDIRECTS,
        "raise_for_status": False,  # a shared session's setting must not change the semantics
        "auto_decompress": True,
    }


def _client_timeout(limits: FetchLimits) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=limits.total_timeout,
        connect=limits.connect_timeout,
        sock_connect=limits.connect_timeout,
        sock_read=limits.read_timeout,
    )


async def _fetch_url(
    session: aiohttp.ClientSession,
    url: str,
    dest: Path,
    limits: FetchLimits,
    request: dict[str, Any],
) -> FetchResult:
    attempts = limits.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return await _attempt(session, url, dest, limits, request)
        except _AttemptFailed as retry:
            if attempt == attempts or not retry.error.retryable:
                raise retry.error from retry.__cause__
            delay = _backoff(limits, attempt) if retry.delay is None else retry.delay
            log.warning(
                "fetch.retry",
                url=_shown(url),
                attempt=attempt,
                reason=str(retry.error),
                delay=round(delay, 3),
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _backoff(limits: FetchLimits, attempt: int) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2^(n-1))]."""
    ceiling = min(limits.backoff_max, limits.backoff_base * 2 ** (attempt - 1))
    return random.uniform(0.0, ceiling)  # jitter, not cryptography


async def _attempt(
    session: aiohttp.ClientSession,
    url: str,
    dest: Path,
    limits: FetchLimits,
    request: dict[str, Any],
) -> FetchResult:
    try:
        async with session.get(url, **request) as response:
            return await _handle(response, url, dest, limits, request)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise _AttemptFailed(_translate(exc, url, limits)) from exc


async def _handle(
    response: aiohttp.ClientResponse,
    url: str,
    dest: Path,
    limits: FetchLimits,
    request: dict[str, Any],
) -> FetchResult:
    if response.status == 304:
        return _not_modified(response, request["headers"])
    if response.status >= 300:
        _refuse(response, url, limits)
    declared = response.content_length
    if declared is not None and declared > limits.max_bytes:
        detail = f"{_shown(url)} declares {declared:,} bytes"
        raise FeedTooLarge(_too_large(limits.max_bytes, detail))
    with _writing(dest, limits.max_bytes, _shown(url)) as writer:
        await _stream(response, writer, url, limits)
        size, sha256 = writer.commit()
    return FetchResult(
        not_modified=False,
        path=dest,
        size=size,
        sha256=sha256,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        status=response.status,
    )


def _not_modified(
    response: aiohttp.ClientResponse, sent: multidict.CIMultiDict[str]
) -> FetchResult:
    return FetchResult(
        not_modified=True,
        path=None,
        size=0,
        sha256=None,
        etag=response.headers.get("ETag") or sent.get("If-None-Match"),
        last_modified=response.headers.get("Last-Modified") or sent.get("If-Modified-Since"),
        status=304,
    )


def _refuse(response: aiohttp.ClientResponse, url: str, limits: FetchLimits) -> None:
    """Raise for an error status: retryable for 429 and 5xx, final for the rest."""
    reason = f" {response.reason}" if response.reason else ""
    error = FeedHTTPError(f"{_shown(url)} answered HTTP {response.status}{reason}")
    if response.status == 429:
        raise _AttemptFailed(error, _retry_after(response.headers.get("Retry-After"), limits))
    if response.status >= 500:
        raise _AttemptFailed(error)
    error.retryable = False
    raise error


def _retry_after(value: str | None, limits: FetchLimits) -> float | None:
    """Seconds a Retry-After header (delta-seconds or HTTP-date) asks for, capped."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), limits.backoff_max)


async def _stream(
    response: aiohttp.ClientResponse, writer: _Writer, url: str, limits: FetchLimits
) -> None:
    try:
        async for chunk in response.content.iter_chunked(CHUNK_SIZE):
            writer.write(chunk)
        writer.finish()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        response.close()
        raise _AttemptFailed(_translate(exc, url, limits, received=writer.received)) from exc
    except BaseException:
        response.close()  # a body left unread must not be drained: drop the connection
        raise


def _translate(
    exc: BaseException, url: str, limits: FetchLimits, received: int | None = None
) -> FetchError:
    """One aiohttp / OS exception as a pipeline error (``received`` set once the body started)."""
    shown = _shown(url)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return FetchTimeout(f"cannot connect to {shown} within {limits.connect_timeout:g} s")
    if isinstance(exc, aiohttp.ServerTimeoutError) and received is None:
        return FetchTimeout(f"no response from {shown} within {limits.read_timeout:g} s")
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return FetchTimeout(
            f"{shown} sent nothing for {limits.read_timeout:g} s after {received:,} bytes"
        )
    if isinstance(exc, TimeoutError):
        return FetchTimeout(f"{shown} did not finish within {limits.total_timeout:g} s")
    if isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, OSError)):
        return FetchError(f"connection to {shown} failed: {_describe(exc)}")
    if isinstance(exc, aiohttp.TooManyRedirects):
        return _final(FetchError(f"{shown} answered with more than {MAX_REDIRECTS} redirects"))
    if isinstance(exc, aiohttp.ClientResponseError):
        return _final(FetchError(f"{shown} sent a malformed HTTP response: {_describe(exc)}"))
    return _final(FetchError(f"cannot fetch {shown}: {_describe(exc)}"))  # e.g. an invalid URL


def _describe(exc: BaseException, limit: int = 200) -> str:
    """``Type: message``, cut short: a parser error can quote megabytes of the body."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[:limit] + "…"


def _shown(url: str) -> str:
    """The URL for messages and logs: no user info, and the query (often a key) hidden."""
    parsed = yarl.URL(url)
    bare = parsed.with_user(None).with_query(None).with_fragment(None)
    return f"{bare}?…" if parsed.query_string else str(bare)


# --- local files --------------------------------------------------------------


def _local_path(source: str, scheme: str) -> Path:
    if scheme == "file":
        return _file_url_path(source)
    if scheme:
        raise _final(FetchError(f"unsupported scheme {scheme!r}: use http(s), file or a path"))
    return Path(source)


def _file_url_path(source: str) -> Path:
    try:
        parts = urllib.parse.urlsplit(source)
    except ValueError as exc:
        raise _final(FetchError(f"invalid feed URL: {exc}")) from exc
    if parts.netloc not in ("", "localhost"):
        raise _final(FetchError(f"cannot fetch {source}: file URLs must be local"))
    return Path(urllib.request.url2pathname(parts.path))


def _copy_file(path: Path, dest: Path, limits: FetchLimits) -> FetchResult:
    """Copy a local feed in chunks, under the same cap and gzip handling as a URL."""
    try:
        source = path.open("rb")
    except OSError as exc:
        raise _final(FetchError(f"cannot read feed file {path}: {exc.strerror}")) from exc
    with source, _writing(dest, limits.max_bytes, str(path)) as writer:
        while chunk := _read_chunk(source, path):
            writer.write(chunk)
        writer.finish()
        size, sha256 = writer.commit()
    return FetchResult(
        not_modified=False,
        path=dest,
        size=size,
        sha256=sha256,
        etag=None,
        last_modified=None,
        status=None,
    )


def _read_chunk(source: BinaryIO, path: Path) -> bytes:
    try:
        chunk = source.read(CHUNK_SIZE)
    except OSError as exc:
        raise _final(FetchError(f"cannot read feed file {path}: {exc.strerror}")) from exc
    return chunk


# --- writing the body -----------------------------------------------------------


@contextlib.contextmanager
def _writing(dest: Path, max_bytes: int, shown: str) -> Iterator[_Writer]:
    """A ``_Writer`` whose partial file is removed if the block fails or is cancelled."""
    writer = _Writer(dest, max_bytes, shown)
    try:
        yield writer
    finally:
        writer.discard()


class _Writer:
    """Decodes, caps, hashes and writes a body to a ``.part`` file; ``commit`` renames it."""

    def __init__(self, dest: Path, max_bytes: int, shown: str) -> None:
        self.dest = dest
        self.max_bytes = max_bytes
        self.shown = shown
        self.received = 0  # raw body bytes, before gzip decoding
        self.size = 0  # decoded bytes written
        self._hash = hashlib.sha256()
        self._gunzip = _Gunzip(shown)
        try:
            fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        except OSError as exc:
            raise _final(FetchError(f"cannot write {dest}: {exc.strerror}")) from exc
        self._part: Path | None = Path(name)
        self._file = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self.received += len(chunk)
        for data in self._gunzip.feed(chunk):
            self._put(data)

    def finish(self) -> None:
        for data in self._gunzip.finish():
            self._put(data)

    def _put(self, data: bytes) -> None:
        if self.size + len(data) > self.max_bytes:
            detail = f"{self.shown} has more than {self.max_bytes:,} bytes"
            raise FeedTooLarge(_too_large(self.max_bytes, detail))
        self.size += len(data)
        self._hash.update(data)
        try:
            self._file.write(data)
        except OSError as exc:
            raise _final(FetchError(f"cannot write {self.dest}: {exc.strerror}")) from exc

    def commit(self) -> tuple[int, str]:
        """Move the complete body to ``dest``; return its decoded size and SHA-256."""
        assert self._part is not None, "commit() after discard()"
        try:
            self._file.close()
            os.replace(self._part, self.dest)
        except OSError as exc:
            raise _final(FetchError(f"cannot write {self.dest}: {exc.strerror}")) from exc
        self._part = None
        return self.size, self._hash.hexdigest()

    def discard(self) -> None:
        """Close and delete the partial file (nothing to do after ``commit``)."""
        self._file.close()
        if self._part is not None:
            self._part.unlink(missing_ok=True)
            self._part = None


class _Gunzip:
    """Pass bytes through, or inflate them when the body starts with the gzip magic.

    Output per step is bounded by ``CHUNK_SIZE`` (``max_length``), so a gzip
    bomb never inflates into memory faster than the writer can cap it.
    Concatenated gzip members are decoded one after another, as gzip(1) does.
    """

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self._head = b""  # bytes held until two are known
        self._sniffed = False
        self._inflater: Any = None  # zlib's decompress object, when gzip

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        if not self._sniffed:
            self._head += chunk
            if len(self._head) < len(GZIP_MAGIC):
                return
            chunk, self._head, self._sniffed = self._head, b"", True
            if chunk.startswith(GZIP_MAGIC):
                self._inflater = zlib.decompressobj(wbits=31)
        if self._inflater is None:
            yield chunk
        else:
            yield from self._inflate(chunk)

    def finish(self) -> Iterator[bytes]:
        if not self._sniffed:
            yield self._head
        elif self._inflater is not None:
            yield from self._inflate(b"")
            if not self._inflater.eof:
                raise _final(FetchError(f"{self.shown} is a truncated gzip file"))

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        while True:
            if self._inflater.eof and data:
                self._inflater = zlib.decompressobj(wbits=31)  # the next gzip member
            try:
                out: bytes = self._inflater.decompress(data, CHUNK_SIZE)
            except zlib.error as exc:
                raise _final(FetchError(f"{self.shown} is not a valid gzip file: {exc}")) from exc
            if self._inflater.eof:
                data = self._inflater.unused_data
            else:
                data = self._inflater.unconsumed_tail
            if out:
                yield out
            elif not data:
                return


# --- messages -----------------------------------------------------------------


def _too_large(max_bytes: int, detail: str) -> str:
    return f"feed exceeds the {_human(max_bytes)} cap: {detail}"


def _human(size: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:.4g} {unit}"
    return f"{size} byte" + ("" if size == 1 else "s")


def _final(error: _E) -> _E:
    """Mark an error that trying again cannot fix (bad input, bad config, full disk)."""
    error.retryable = False
    return error
