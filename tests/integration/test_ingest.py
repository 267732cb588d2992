"""The ingest stage against a real database: counts, identity, history, deactivation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from pipeline import errors, queue
from pipeline.feeds import fetch
from pipeline.stages import ingest
from tests.factories import csv_text, make_feed, sku, write_csv

OPTIONS = ingest.IngestOptions(limits=fetch.FetchLimits(retries=0, backoff_base=0.0))


async def run(conn: asyncpg.Connection, feed_id: int, **kw: object) -> ingest.IngestResult:
    return await ingest.run(conn, feed_id=feed_id, options=OPTIONS, **kw)  # type: ignore[arg-type]


async def sku_rows(conn: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch("SELECT *, xmin::text AS version FROM dealer_skus")
    return {r["sku"]: r for r in rows}


async def test_first_load_counts_every_row(conn: asyncpg.Connection, tmp_path: Path) -> None:
    rows = [sku(n) for n in range(1, 101)] + [sku(101, price="abc"), sku(102, price="-5")]
    feed_id = await make_feed(conn, write_csv(tmp_path / "f.csv", rows))

    result = await run(conn, feed_id)

    assert (result.status, result.rows, result.created, result.quarantined) == (
        "SUCCEEDED",
        102,
        100,
        2,
    )
    assert await conn.fetchval("SELECT count(*) FROM dealer_skus WHERE is_active") == 100
    run_row = await conn.fetchrow("SELECT * FROM feed_runs WHERE id = $1", result.run_id)
    assert run_row["status"] == "SUCCEEDED"
    assert (run_row["created"], run_row["quarantined"], run_row["rows_total"]) == (100, 2, 102)
    assert run_row["bytes"] == (tmp_path / "f.csv").stat().st_size
    assert {"fetch", "parse_copy", "merge", "deactivate", "total"} <= run_row["timings"].keys()
    reasons = await conn.fetch("SELECT row_number, reasons FROM quarantined_records ORDER BY 1")
    assert [r["row_number"] for r in reasons] == [101, 102]
    assert all(r["reasons"] for r in reasons)


async def test_unchanged_bytes_are_skipped_without_touching_skus(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    feed_id = await make_feed(conn, write_csv(tmp_path / "f.csv", [sku(n) for n in range(1, 51)]))
    await run(conn, feed_id)
    before = await sku_rows(conn)

    result = await run(conn, feed_id)

    assert result.status == "UNCHANGED"
    assert await sku_rows(conn) == before  # same xmin: no row version was written


async def test_same_content_in_new_bytes_writes_no_row(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = [sku(n) for n in range(1, 51)]
    path = write_csv(tmp_path / "f.csv", rows)
    feed_id = await make_feed(conn, path)
    await run(conn, feed_id)
    before = await sku_rows(conn)
    write_csv(path, list(reversed(rows)))  # other bytes, same SKUs

    result = await run(conn, feed_id)

    assert (result.status, result.created, result.updated, result.unchanged) == (
        "SUCCEEDED",
        0,
        0,
        50,
    )
    assert await sku_rows(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM price_history") == 0


async def test_price_change_keeps_identity_and_writes_one_history_row(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = [sku(n) for n in range(1, 11)]
    path = write_csv(tmp_path / "f.csv", rows)
    feed_id = await make_feed(conn, path)
    await run(conn, feed_id)
    before = (await sku_rows(conn))["AMMO-00003"]
    await conn.execute("UPDATE dealer_skus SET needs_match = false")
    rows[2]["price"] = "9.49"
    write_csv(path, rows)

    result = await run(conn, feed_id)

    after = (await sku_rows(conn))["AMMO-00003"]
    assert (result.updated, result.unchanged, result.price_changes) == (1, 9, 1)
    assert (after["id"], after["first_seen_at"]) == (before["id"], before["first_seen_at"])
    assert after["price"] == Decimal("9.49") and after["last_change_type"] == "PRICE"
    assert after["needs_match"] is False  # a price-only change asks for no rematch
    history = await conn.fetch("SELECT * FROM price_history")
    assert len(history) == 1
    assert (history[0]["dealer_sku_id"], history[0]["old_price"], history[0]["new_price"]) == (
        before["id"], before["price"], Decimal("9.49"),
    )  # fmt: skip


async def test_stock_change_is_recorded_as_stock(conn: asyncpg.Connection, tmp_path: Path) -> None:
    rows = [sku(1), sku(2)]
    path = write_csv(tmp_path / "f.csv", rows)
    feed_id = await make_feed(conn, path)
    await run(conn, feed_id)
    rows[0]["availability"] = "out of stock"
    write_csv(path, rows)

    await run(conn, feed_id)

    row = (await sku_rows(conn))["AMMO-00001"]
    assert (row["in_stock"], row["last_change_type"]) == (False, "STOCK")
    history = await conn.fetchrow("SELECT old_in_stock, new_in_stock FROM price_history")
    assert tuple(history) == (True, False)


async def test_title_change_asks_for_rematch(conn: asyncpg.Connection, tmp_path: Path) -> None:
    rows = [sku(1)]
    path = write_csv(tmp_path / "f.csv", rows)
    feed_id = await make_feed(conn, path)
    await run(conn, feed_id)
    await conn.execute("UPDATE dealer_skus SET needs_match = false")
    rows[0]["title"] = "Federal 9mm Luger 124gr JHP - 50 Rounds"
    write_csv(path, rows)

    await run(conn, feed_id)

    row = (await sku_rows(conn))["AMMO-00001"]
    assert (row["last_change_type"], row["needs_match"]) == ("ATTRIBUTE", True)


async def test_removed_sku_is_deactivated_and_returns_active(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = [sku(n) for n in range(1, 6)]
    path = write_csv(tmp_path / "f.csv", rows)
    feed_id = await make_feed(conn, path)
    await run(conn, feed_id)
    first_id = (await sku_rows(conn))["AMMO-00004"]["id"]

    write_csv(path, rows[:3] + rows[4:])
    removed = await run(conn, feed_id)
    gone = (await sku_rows(conn))["AMMO-00004"]

    write_csv(path, rows)
    back = await run(conn, feed_id)
    returned = (await sku_rows(conn))["AMMO-00004"]

    assert removed.deactivated == 1
    assert (gone["is_active"], gone["last_change_type"]) == (False, "DEACTIVATED")
    assert back.updated == 1 and back.created == 0
    assert (returned["id"], returned["is_active"], returned["last_change_type"]) == (
        first_id, True, "REACTIVATED",
    )  # fmt: skip


async def test_duplicate_identity_keeps_first_row_and_quarantines_others(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = [sku(1, price="10.00"), sku(2), sku(1, price="11.00"), sku(1, price="12.00")]
    feed_id = await make_feed(conn, write_csv(tmp_path / "f.csv", rows))

    result = await run(conn, feed_id)

    assert (result.created, result.quarantined) == (2, 2)
    assert (await sku_rows(conn))["AMMO-00001"]["price"] == Decimal("10.00")
    quarantined = await conn.fetch("SELECT row_number, reasons FROM quarantined_records ORDER BY 1")
    assert [r["row_number"] for r in quarantined] == [3, 4]
    assert "row 1" in quarantined[0]["reasons"][0]


async def test_failed_parse_deactivates_nothing_and_keeps_data(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "f.csv", [sku(n) for n in range(1, 21)])
    feed_id = await make_feed(conn, path)
    await run(conn, feed_id)
    before = await sku_rows(conn)
    path.write_bytes(b"")  # the dealer's export broke

    with pytest.raises(errors.FeedParseError):
        await run(conn, feed_id)

    assert await sku_rows(conn) == before
    failed = await conn.fetchrow("SELECT * FROM feed_runs ORDER BY id DESC LIMIT 1")
    assert failed["status"] == "FAILED" and "empty" in failed["error"]
    assert await conn.fetchval("SELECT failure_count FROM feeds WHERE id = $1", feed_id) == 1


async def test_feed_truncated_midway_rolls_back_everything(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """A parse that fails after rows were staged: no SKU is written or deactivated."""
    path = tmp_path / "f.xml"
    items = "".join(
        f"<item><g:id>X{n}</g:id><title>Federal 9mm 115gr FMJ 50rd</title>"
        f"<g:price>{10 + n}.00 USD</g:price></item>"
        for n in range(1, 51)
    )
    head = '<?xml version="1.0"?><rss xmlns:g="http://base.google.com/ns/1.0"><channel>'
    path.write_text(head + items + "</channel></rss>", encoding="utf-8")
    feed_id = await make_feed(conn, path)
    await run(conn, feed_id)
    before = await sku_rows(conn)
    path.write_text(
        head + items.replace("<g:price>11.00", "<g:price>1.00") + "<item><g:id>", encoding="utf-8"
    )

    with pytest.raises(errors.FeedParseError):
        await run(conn, feed_id)

    assert await sku_rows(conn) == before
    assert await conn.fetchval("SELECT count(*) FROM price_history") == 0


async def test_changed_ingest_defers_one_match_job_in_its_transaction(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "f.csv", [sku(n) for n in range(1, 6)])
    feed_id = await make_feed(conn, path)

    await run(conn, feed_id, downstream=queue.defer_match)
    await run(conn, feed_id, downstream=queue.defer_match)  # unchanged: no new job
    write_csv(path, [sku(n, price="1.23") for n in range(1, 6)])
    await run(conn, feed_id, downstream=queue.defer_match)  # changed, but a match job waits

    jobs = await conn.fetch("SELECT task_name, queueing_lock, args FROM procrastinate_jobs")
    dealer_id = await conn.fetchval("SELECT dealer_id FROM feeds WHERE id = $1", feed_id)
    assert [tuple(j) for j in jobs] == [
        ("match", f"match:dealer:{dealer_id}", {"dealer_id": dealer_id})
    ]


async def test_failed_ingest_defers_nothing(conn: asyncpg.Connection, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("sku,title,price\n", encoding="utf-8")
    feed_id = await make_feed(conn, path)

    with pytest.raises(errors.EmptyFeed):
        await run(conn, feed_id, downstream=queue.defer_match)

    assert await conn.fetchval("SELECT count(*) FROM procrastinate_jobs") == 0


async def count_statements(conn: asyncpg.Connection, feed_id: int) -> tuple[int, int]:
    """Statements other than COPY issued by one run, and the COPYs (counted by the copier)."""
    statements: list[str] = []

    def record(query: asyncpg.connection.LoggedQuery) -> None:
        if not query.query.lstrip().upper().startswith("COPY"):
            statements.append(query.query)

    conn.add_query_logger(record)
    try:
        result = await run(conn, feed_id)
    finally:
        conn.remove_query_logger(record)
    return len(statements), result.copies


async def test_statements_do_not_grow_with_rows(conn: asyncpg.Connection, tmp_path: Path) -> None:
    small = await make_feed(
        conn, write_csv(tmp_path / "s.csv", [sku(n) for n in range(100)]), name="s"
    )
    big = await make_feed(
        conn, write_csv(tmp_path / "b.csv", [sku(n) for n in range(10_000)]), name="b"
    )

    small_statements, small_copies = await count_statements(conn, small)
    big_statements, big_copies = await count_statements(conn, big)

    assert small_statements == big_statements
    assert (small_copies, big_copies) == (1, 10_000 // OPTIONS.batch_rows)


def test_csv_factory_writes_a_header() -> None:
    assert csv_text([sku(1)]).splitlines()[0].startswith("sku,title,price")
