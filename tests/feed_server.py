"""Local feed servers for tests: real sockets on 127.0.0.1, no mocks.

    async with feed_server.serve({"/feed.csv": feed_server.feed(CSV, etag='"v1"')}) as server:
        result = await fetch.fetch(server.url("/feed.csv"), dest)
        assert server.hits("/feed.csv") == 1

``serve`` takes one handler for every path, or a mapping of path to handler,
and records every request (method, path, headers) in ``server.requests``.
Handler factories cover the usual cases:

- ``feed(body, etag=..., last_modified=...)``: a feed that answers 304 to a
  matching If-None-Match / If-Modified-Since, like a well-behaved dealer;
- ``status(code)``, ``redirect(location)``, ``sequence(h1, h2, ...)`` (the n-th
  request gets the n-th handler, the last one repeats), ``basic_auth(...)``;
- ``stall()`` (accepts and never answers), ``stall_mid_body(prefix)``,
  ``slow(body, seconds)`` (the whole body, with a pause in the middle);
- ``Endless().handle``: a body that never ends; it records how much it sent
  and sets ``stopped`` when the client hangs up.

``serve_raw`` is a bare TCP server for what aiohttp.web refuses to send (a body
longer or shorter than its Content-Length, a connection closed at once).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email.utils
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import multidict
from aiohttp import web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RawResponder = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

FOREVER = 3600.0  # "never answers": the client's timeout or hang-up ends it first


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: multidict.CIMultiDict[str]


@dataclass
class FeedServer:
    """A running server: where it is and what it was asked."""

    root: str
    requests: list[Seen] = field(default_factory=list)

    def url(self, path: str = "/feed") -> str:
        return self.root + path

    def hits(self, path: str | None = None) -> int:
        return sum(1 for seen in self.requests if path is None or seen.path == path)

    def last(self) -> Seen:
        return self.requests[-1]


@contextlib.asynccontextmanager
async def serve(routes: Handler | Mapping[str, Handler]) -> AsyncIterator[FeedServer]:
    """Serve ``routes`` on 127.0.0.1 until the block ends."""
    app = web.Application()
    recorded: list[Seen] = []
    app.middlewares.append(_recorder(recorded))
    for path, handler in _routes(routes).items():
        app.router.add_route("*", path, handler)
    server = TestServer(app, host="127.0.0.1")
    # A stalled handler is cancelled when its client hangs up; the short
    # shutdown timeout only bounds a test that forgot to hang up.
    await server.start_server(shutdown_timeout=1.0)
    try:
        yield FeedServer(root=str(server.make_url("")).rstrip("/"), requests=recorded)
    finally:
        await server.close()


def _routes(routes: Handler | Mapping[str, Handler]) -> Mapping[str, Handler]:
    return routes if isinstance(routes, Mapping) else {"/{tail:.*}": routes}


def _recorder(recorded: list[Seen]) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        headers = multidict.CIMultiDict(request.headers)
        recorded.append(Seen(request.method, request.path, headers))
        return await handler(request)

    return record


# --- handlers -------------------------------------------------------------------


def feed(
    body: bytes,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    content_type: str = "text/csv",
    headers: Mapping[str, str] | None = None,
) -> Handler:
    """A feed body with optional validators; answers 304 when the client's copy is current."""
    validators = {"ETag": etag, "Last-Modified": last_modified}
    sent = {name: value for name, value in validators.items() if value} | dict(headers or {})

    async def handler(request: web.Request) -> web.StreamResponse:
        if _is_current(request, etag, last_modified):
            return web.Response(status=304, headers=sent)
        return web.Response(body=body, content_type=content_type, headers=sent)

    return handler


def _is_current(request: web.Request, etag: str | None, last_modified: str | None) -> bool:
    if etag and request.headers.get("If-None-Match") == etag:
        return True
    since = request.if_modified_since
    return bool(
        last_modified and since and email.utils.parsedate_to_datetime(last_modified) <= since
    )


def status(code: int, *, headers: Mapping[str, str] | None = None, body: bytes = b"") -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, headers=headers, body=body)

    return handler


def redirect(location: str, code: int = 302) -> Handler:
    return status(code, headers={"Location": location})


def sequence(*handlers: Handler) -> Handler:
    """The n-th request gets the n-th handler; the last handler answers every later one."""
    calls = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        return await handlers[min(calls, len(handlers)) - 1](request)

    return handler


def basic_auth(user: str, password: str, inner: Handler) -> Handler:
    """``inner`` behind HTTP Basic auth: 401 without the right credentials."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if _basic_credentials(request.headers.get("Authorization", "")) != (user, password):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="feeds"'})
        return await inner(request)

    return handler


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        login, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return login, password


def stall(seconds: float = FOREVER) -> Handler:
    """Accept the request and answer nothing (headers included)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.Response(status=204)

    return handler


def stall_mid_body(prefix: bytes, seconds: float = FOREVER) -> Handler:
    """Send the headers and ``prefix`` of a longer body, then nothing."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = len(prefix) + 1_000_000
        await response.prepare(request)
        await response.write(prefix)
        await asyncio.sleep(seconds)
        return response

    return handler


def slow(body: bytes, seconds: float) -> Handler:
    """The whole ``body``, its second half ``seconds`` after its first: a fetch in flight."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        await asyncio.sleep(seconds)
        await response.write(body[len(body) // 2 :])
        await response.write_eof()
        return response

    return handler


class Endless:
    """A body that never ends (chunked, or with a declared ``content_length``).

    Serve ``endless.handle``; ``sent`` counts the bytes written and ``stopped``
    is set once the client hangs up.
    """

    def __init__(self, chunk: bytes = b"x" * 65536, *, content_length: int | None = None) -> None:
        self.chunk = chunk
        self.content_length = content_length
        self.sent = 0
        self.stopped = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/csv"})
        if self.content_length is None:
            response.enable_chunked_encoding()
        else:
            response.content_length = self.content_length
        await response.prepare(request)
        try:
            while True:
                await response.write(self.chunk)
                self.sent += len(self.chunk)
        except ConnectionError:
            return response  # the client hung up, as it should
        finally:
            self.stopped.set()


# --- raw TCP ------------------------------------------------------------------


@dataclass
class RawServer:
    root: str
    connections: int = 0

    def url(self, path: str = "/feed") -> str:
        return self.root + path


@contextlib.asynccontextmanager
async def serve_raw(respond: RawResponder) -> AsyncIterator[RawServer]:
    """A TCP server on 127.0.0.1 whose every connection is handled by ``respond``.

    ``respond`` gets the reader and writer; the connection is closed after it
    returns. Use ``read_request`` to consume the request head first.
    """
    tasks: set[asyncio.Task[None]] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw.connections += 1
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await respond(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client hung up, or the server is closing: this task ends here
        finally:
            writer.close()

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    raw = RawServer(root=f"http://127.0.0.1:{port}")
    try:
        yield raw
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """Read one request head (a GET has no body)."""
    return await reader.readuntil(b"\r\n\r\n")
