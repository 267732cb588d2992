"""A local HTTP server for the bench's feeds, in the bench's own event loop.

Each feed has a name and a file behind it that the bench switches between
versions. aiohttp's ``FileResponse`` streams the file and sends an ETag and a
Last-Modified, and answers a conditional GET with 304, as a well-behaved
dealer's server does: the unchanged re-poll goes through that path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web


class FeedServer:
    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self.root = ""
        self.requests = 0

    def url(self, name: str) -> str:
        return f"{self.root}/feeds/{name}"

    def publish(self, name: str, path: Path) -> str:
        """Serve ``path`` as feed ``name`` from now on; the feed's URL."""
        self.files[name] = path
        return self.url(name)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        path = self.files.get(request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "text/csv"})


@asynccontextmanager
async def serve() -> AsyncIterator[FeedServer]:
    """A ``FeedServer`` on 127.0.0.1 (a free port) until the block ends."""
    server = FeedServer()
    app = web.Application()
    app.router.add_get("/feeds/{name}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.root = f"http://{host}:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()
