"""The ``pipeline`` command: migrate, ingest one feed, run the demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline import db, errors, logs, migrate, queue, registry, settings, summary
from pipeline.stages import ingest as ingest_stage


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    conf = settings.get()
    logs.configure(fmt=conf.log_format, level=conf.log_level)
    try:
        code: int = asyncio.run(args.handler(args))
    except errors.PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


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
    return parser


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


async def _ingest(args: argparse.Namespace) -> int:
    source = _source(args.source)
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else None
    async with db.connection(queue.dsn()) as conn:
        await migrate.ensure_current(conn, auto=not settings.get().database_url)
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

    async with db.connection(queue.dsn()) as conn:
        await migrate.ensure_current(conn, auto=not settings.get().database_url)
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


async def _demo(args: argparse.Namespace) -> int:
    from pipeline import demo

    return await demo.run(scale=args.scale, seed=args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
