"""The ``pipeline`` command: migrate, ingest one feed, manage dealers and feeds, status."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from pipeline import db, errors, logs, migrate, queue, registry, settings, status, summary
from pipeline.stages import ingest as ingest_stage


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    conf = settings.get()
    logs.configure(fmt=conf.log_format, level=conf.log_level)
    try:
        return asyncio.run(_dispatch(args))
    except KeyboardInterrupt:
        return 130


async def run(argv: Sequence[str]) -> int:
    """``main`` on the caller's event loop, without configuring logs (for tests)."""
    return await _dispatch(_parser().parse_args(argv))


async def _dispatch(args: argparse.Namespace) -> int:
    """Run the command's handler; a pipeline error is one line on stderr, exit status 1."""
    try:
        code: int = await args.handler(args)
    except errors.PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return code


@asynccontextmanager
async def _database() -> AsyncIterator[asyncpg.Connection]:
    """A connection to a current schema (the embedded default migrates itself)."""
    async with db.connection(queue.dsn()) as conn:
        await migrate.ensure_current(conn, auto=not settings.get().database_url)
        yield conn


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="command")

    cmd = commands.add_parser("migrate", help="apply procrastinate's schema and sql/migrations")
    cmd.set_defaults(handler=_migrate)

    cmd = commands.add_parser("ingest", help="load one feed once and print the run summary")
    cmd.add_argument("source", help="http(s) URL, file:// URL or local path")
    cmd.add_argument("--dealer", required=True, help="dealer name (created if new)")
    cmd.add_argument("--feed-name", help="the feed's name within the dealer (default: main)")
    cmd.add_argument("--format", choices=registry.FORMATS, help="default: detected from content")
    cmd.add_argument("--profile", help="column profile for a headerless feed, e.g. shareasale")
    cmd.add_argument("--columns", help="comma-separated column names for a headerless feed")
    cmd.set_defaults(handler=_ingest)

    cmd = commands.add_parser(
        "demo", help="synthetic dealers, two ingest rounds through the worker"
    )
    cmd.add_argument("--scale", type=float, default=1.0, help="multiply every dealer's SKU count")
    cmd.add_argument("--seed", type=int, default=7)
    cmd.set_defaults(handler=_demo)
    cmd = commands.add_parser("insights", help="print a dealer's active insights")
    cmd.add_argument("--dealer", required=True, help="dealer name")
    cmd.add_argument("--limit", type=int, default=50)
    cmd.set_defaults(handler=_insights)
    cmd = commands.add_parser("stop-embedded", help="stop the embedded PostgreSQL server")
    cmd.set_defaults(handler=_stop_embedded)
    _dealers_parser(commands)
    _feeds_parser(commands)
    cmd = commands.add_parser(
        "status", help="queue depth, feeds due, failing feeds, last runs, stalled workers"
    )
    cmd.add_argument("--json", action="store_true", help="print one JSON document")
    cmd.add_argument("--due-limit", type=int, default=20, help="due feeds listed (all counted)")
    cmd.set_defaults(handler=_status)
    return parser


def _dealers_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dealers = commands.add_parser("dealers", help="add or list dealers")
    sub = dealers.add_subparsers(required=True, metavar="action")
    cmd = sub.add_parser("add", help="create a dealer, or set an existing one's tier")
    cmd.add_argument("name")
    cmd.add_argument("--tier", type=int, help="job priority of its feeds, higher first (default 0)")
    cmd.set_defaults(handler=_dealers_add)
    cmd = sub.add_parser("list", help="dealers with their tier, feeds and active SKUs")
    cmd.set_defaults(handler=_dealers_list)


def _feeds_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    feeds = commands.add_parser("feeds", help="add, list, show, pause, resume or run feeds")
    sub = feeds.add_subparsers(required=True, metavar="action")
    cmd = sub.add_parser(
        "add",
        help="create or replace a feed; due at once if new",
        description="Create a feed, or replace every setting of an existing one (same dealer "
        "and name). The dealer is created, with tier 0, if it does not exist yet. A new feed "
        "is due at once; an existing one keeps its schedule, brought forward if the interval "
        "got shorter.",
    )
    cmd.add_argument("source", help="http(s) URL, file:// URL or local path")
    cmd.add_argument("--dealer", required=True, help="dealer name (created if new)")
    cmd.add_argument(
        "--name", default="main", help="the feed's name within the dealer (default: main)"
    )
    cmd.add_argument("--format", choices=registry.FORMATS, help="default: detected from content")
    cmd.add_argument("--profile", help="column profile for a headerless feed, e.g. shareasale")
    cmd.add_argument("--columns", help="comma-separated column names for a headerless feed")
    cmd.add_argument("--auth", metavar="USER:PASSWORD", help="HTTP Basic credentials")
    cmd.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'",
        help="request header (repeatable)",
    )  # fmt: skip
    cmd.add_argument(
        "--no-trust-identifiers", action="store_true",
        help="never match products on this feed's GTINs",
    )  # fmt: skip
    cmd.add_argument(
        "--interval", help="poll interval: 90s, 5m, 1h, 1d or seconds (default: 5m, "
        "PIPELINE_FEED_POLL_INTERVAL)",
    )  # fmt: skip
    cmd.set_defaults(handler=_feeds_add)
    cmd = sub.add_parser("list", help="feeds with their schedule and last run")
    cmd.add_argument("--dealer", help="only this dealer's feeds")
    cmd.add_argument("--status", type=str.upper, choices=registry.STATUSES)
    cmd.set_defaults(handler=_feeds_list)
    for action, handler, text in (
        ("show", _feeds_show, "every setting, the schedule and the last 5 runs"),
        ("pause", _feeds_pause, "stop scheduling the feed"),
        ("resume", _feeds_resume, "schedule the feed again, due now, failures cleared"),
        ("run-now", _feeds_run_now, "queue an ingest job now, even for a paused feed"),
    ):
        cmd = sub.add_parser(action, help=text)
        cmd.add_argument("feed", help="feed id or DEALER/FEED")
        cmd.set_defaults(handler=handler)


async def _stop_embedded(args: argparse.Namespace) -> int:
    data_dir = settings.get().data_dir
    stopped = db.stop_embedded(data_dir)
    print(f"embedded server under {data_dir} {'stopped' if stopped else 'was not running'}")
    return 0


async def _migrate(args: argparse.Namespace) -> int:
    async with db.connection(queue.dsn()) as conn:
        result = await migrate.migrate(conn)
    applied = ", ".join(result.applied) or "nothing"
    print(f"applied {applied}; {result.already} already applied")
    return 0


def _source(text: str) -> str:
    """A URL as given; a local path made absolute, so a worker elsewhere finds it."""
    return text if "://" in text else str(Path(text).resolve())


def _columns(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",")] if text else None


async def _ingest(args: argparse.Namespace) -> int:
    source = _source(args.source)
    columns = _columns(args.columns)
    async with _database() as conn:
        dealer_id = await registry.upsert_dealer(conn, args.dealer)
        feed_id = await registry.upsert_feed(
            conn, dealer_id=dealer_id, name=args.feed_name or "main", source=source,
            fmt=args.format, profile=args.profile, columns=columns,
        )  # fmt: skip
        try:
            result = await ingest_stage.run(
                conn, feed_id=feed_id, options=queue.ingest_options(), downstream=queue.defer_match
            )
        finally:
            runs = await registry.latest_runs(conn, [feed_id])
            print(summary.runs_table(runs))
    return 0 if result.status in ("SUCCEEDED", "UNCHANGED") else 1


async def _insights(args: argparse.Namespace) -> int:
    from pipeline.stages import insight

    async with _database() as conn:
        dealer_id = await insight.dealer_id(conn, args.dealer)
        if dealer_id is None:
            print(f"error: no dealer named {args.dealer!r}", file=sys.stderr)
            return 1
        rows = await insight.active(conn, dealer_id, limit=args.limit)
    for row in rows:
        print(insight.format_insight(row))
    if not rows:
        print(f"{args.dealer}: no active insights")
    return 0


# -- dealers and feeds --


async def _dealers_add(args: argparse.Namespace) -> int:
    async with _database() as conn:
        await registry.upsert_dealer(conn, args.name, tier=args.tier)
        dealer = await registry.find_dealer(conn, args.name)
    print(f"dealer {dealer['id']} {dealer['name']}: tier {dealer['tier']}")
    return 0


async def _dealers_list(args: argparse.Namespace) -> int:
    async with _database() as conn:
        rows = await registry.list_dealers(conn)
    print(status.dealers_table(rows))
    return 0


def _poll_interval(text: str | None) -> dt.timedelta:
    """``--interval``, or the default, within the operator's bounds (settings)."""
    conf = settings.get()
    interval = (
        registry.parse_interval(text) if text else dt.timedelta(seconds=conf.feed_poll_interval)
    )
    seconds, shown = interval.total_seconds(), status.duration(interval.total_seconds())
    if seconds < conf.feed_min_poll_interval:
        raise errors.ConfigError(
            f"poll interval {shown} is shorter than the minimum "
            f"{status.duration(conf.feed_min_poll_interval)}; "
            "PIPELINE_FEED_MIN_POLL_INTERVAL (seconds) lowers it"
        )
    if seconds > conf.feed_max_poll_interval:
        raise errors.ConfigError(
            f"poll interval {shown} is longer than the maximum "
            f"{status.duration(conf.feed_max_poll_interval)} (PIPELINE_FEED_MAX_POLL_INTERVAL)"
        )
    return interval


def _auth(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    user, colon, password = text.partition(":")
    if not colon or not user:
        raise errors.ConfigError("--auth takes USER:PASSWORD")
    return user, password


def _headers(texts: Sequence[str]) -> dict[str, str]:
    headers = {}
    for text in texts:
        name, colon, value = text.partition(":")
        if not colon or not name.strip() or any(c in name.strip() for c in " \t\r\n"):
            raise errors.ConfigError(f"--header {text!r} is not 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


async def _feeds_add(args: argparse.Namespace) -> int:
    if "/" in args.name or not args.name.strip():
        raise errors.ConfigError(f"feed name {args.name!r} must be non-empty, without '/'")
    interval = _poll_interval(args.interval)
    options = {
        "fmt": args.format, "profile": args.profile, "columns": _columns(args.columns),
        "auth": _auth(args.auth), "headers": _headers(args.header),
        "trust_identifiers": not args.no_trust_identifiers, "poll_interval": interval,
    }  # fmt: skip
    async with _database() as conn, conn.transaction():
        dealer_id = await registry.upsert_dealer(conn, args.dealer)
        feed_id = await registry.upsert_feed(
            conn, dealer_id=dealer_id, name=args.name.strip(), source=_source(args.source),
            **options,
        )  # fmt: skip
        feed = await registry.find_feed(conn, str(feed_id))
    print(
        f"feed {feed_id} {feed['dealer_name']}/{feed['name']}: every "
        f"{status.duration(interval.total_seconds())}, {feed['status']}, next run "
        f"{status.until(feed['next_run_at'] - feed['now'])}"
    )
    return 0


async def _feeds_list(args: argparse.Namespace) -> int:
    async with _database() as conn:
        dealer = (await registry.find_dealer(conn, args.dealer))["name"] if args.dealer else None
        rows = await registry.list_feeds(conn, dealer=dealer, status=args.status)
    print(status.feeds_table(rows))
    return 0


async def _feeds_show(args: argparse.Namespace) -> int:
    async with _database() as conn:
        feed = await registry.find_feed(conn, args.feed)
        runs = await registry.recent_runs(conn, feed["id"], limit=5)
    print(status.feed_details(feed, runs))
    return 0


async def _feeds_pause(args: argparse.Namespace) -> int:
    async with _database() as conn:
        feed = await registry.find_feed(conn, args.feed)
        row = await registry.pause_feed(conn, feed["id"])
    print(f"feed {feed['id']} {feed['dealer_name']}/{feed['name']}: {row['was']} -> PAUSED")
    return 0


async def _feeds_resume(args: argparse.Namespace) -> int:
    async with _database() as conn:
        feed = await registry.find_feed(conn, args.feed)
        row = await registry.resume_feed(conn, feed["id"])
    print(
        f"feed {feed['id']} {feed['dealer_name']}/{feed['name']}: {row['was']} -> ACTIVE, "
        f"failures cleared, next run {status.until(row['next_in'])}"
    )
    return 0


async def _feeds_run_now(args: argparse.Namespace) -> int:
    """Defer the feed's ingest job at its dealer's tier; a worker runs it."""
    async with _database() as conn:
        feed = await registry.find_feed(conn, args.feed)
        async with conn.transaction():
            job_id = await queue.defer_ingest(conn, feed["id"], priority=feed["tier"])
    name = f"feed {feed['id']} {feed['dealer_name']}/{feed['name']}"
    if job_id is None:
        print(f"{name}: already queued")
    else:
        print(f"{name}: ingest job {job_id} queued, priority {feed['tier']}")
    return 0


async def _status(args: argparse.Namespace) -> int:
    async with _database() as conn:
        snap = await status.collect(
            conn, stalled_after=settings.get().stalled_after, due_limit=args.due_limit
        )
    print(status.to_json(snap) if args.json else status.report(snap))
    return 0


async def _demo(args: argparse.Namespace) -> int:
    from pipeline import demo

    return await demo.run(scale=args.scale, seed=args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
