"""``make demo``: synthetic dealers served over HTTP, ingested twice by the real worker.

Round 1 serves every dealer's feed; round 2 serves a second version (about 10%
of prices and stock changed, some SKUs removed, some added). Each round defers
one ingest job per feed and runs procrastinate's worker until the queue is
empty, then prints one line per feed run.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp.web
import asyncpg

from pipeline import db, migrate, queue, registry, settings, summary, synthetic
from pipeline.stages import insight

BASE_SIZES = (3000, 2500, 2000, 1500, 800)


class FeedServer:
    """Serves ``/feeds/<name>`` from the current version's files (FileResponse sends ETags)."""

    def __init__(self) -> None:
        self.current: dict[str, Path] = {}
        self._runner: aiohttp.web.AppRunner | None = None
        self.base_url = ""

    async def _handle(self, request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        path = self.current.get(request.match_info["name"])
        if path is None:
            raise aiohttp.web.HTTPNotFound()
        return aiohttp.web.FileResponse(path)

    async def start(self) -> None:
        app = aiohttp.web.Application()
        app.router.add_get("/feeds/{name}", self._handle)
        self._runner = aiohttp.web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = aiohttp.web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/feeds/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def run(*, scale: float = 1.0, seed: int = 7) -> int:
    sizes = tuple(max(10, int(n * scale)) for n in BASE_SIZES)
    # The demo's worker runs the jobs the demo defers, round by round; the
    # scheduler's tick would also poll every feed in the database in between.
    # Read when the worker imports pipeline.scheduler, which has not happened yet.
    settings.get().periodic_tasks = False
    work = settings.get().data_dir / "demo"
    where = (
        "DATABASE_URL" if settings.get().database_url else f"embedded, {settings.get().data_dir}"
    )
    print(f"database: {where}")
    versions = {
        v: synthetic.build_feed_set(work / f"v{v}", seed=seed, version=v, skus_per_dealer=sizes)
        for v in (1, 2)
    }
    server = FeedServer()
    await server.start()
    try:
        async with db.connection(queue.dsn()) as conn:
            await migrate.ensure_current(conn, auto=not settings.get().database_url)
            feed_ids = await _register(conn, versions[1], server.base_url)
            for version, label in ((1, "round 1: first load"), (2, "round 2: ~10% changed")):
                server.current = {_url_name(f): f.path for f in versions[version]}
                await _round(conn, feed_ids, label)
            await _print_quarantine_sample(conn, feed_ids)
            await insight.print_sample(conn, feed_ids)
    finally:
        await server.stop()
        await queue.close_pool()
    return 0


async def _register(
    conn: asyncpg.Connection, feeds: list[synthetic.FeedFile], base_url: str
) -> list[int]:
    ids = []
    for feed in feeds:
        dealer_id = await registry.upsert_dealer(conn, feed.dealer)
        ids.append(
            await registry.upsert_feed(
                conn,
                dealer_id=dealer_id,
                name="demo",
                source=base_url + _url_name(feed),
                fmt=feed.fmt,
                profile="shareasale" if feed.profile == "shareasale" else None,
            )
        )
    return ids


def _url_name(feed: synthetic.FeedFile) -> str:
    """The same URL for every version of a dealer's feed, as a dealer would publish it."""
    return feed.path.name.replace("-v1", "").replace("-v2", "")


async def _round(conn: asyncpg.Connection, feed_ids: list[int], label: str) -> None:
    start = time.perf_counter()
    for feed_id in feed_ids:
        await queue.defer_ingest(conn, feed_id)
    async with queue.app.open_async():
        await queue.app.run_worker_async(
            wait=False, concurrency=1, install_signal_handlers=False, listen_notify=False
        )
    elapsed = time.perf_counter() - start
    runs = await registry.latest_runs(conn, feed_ids)
    total = sum(r["rows_total"] for r in runs)
    print(f"\n== {label}: {len(runs)} feeds, {total:,} rows, {elapsed:.2f} s through the worker ==")
    print(summary.runs_table(runs))


async def _print_quarantine_sample(conn: asyncpg.Connection, feed_ids: list[int]) -> None:
    rows = await registry.quarantine_sample(conn, feed_ids, limit=8)
    print("\nquarantined rows, one per reason:")
    for row in rows:
        print(f"  {row['dealer_name']} row {row['row_number']}: {'; '.join(row['reasons'])}")
