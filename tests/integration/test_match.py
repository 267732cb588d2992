"""The match stage against a real database: order of steps, conflicts, review, stability."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from pipeline.stages import match
from tests.chain_factories import Dealer, StatementCounter, box, dealer, mappings


async def test_new_skus_create_products_that_another_dealer_then_matches(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    first = await dealer(conn, tmp_path, "First", [box(n, dealer=1) for n in range(1, 6)])
    created = await match.run(conn, dealer_id=first.id)
    titles = {n: f"Federal AE 9mm Luger 115gr FMJ Line {n} 50rd" for n in range(1, 6)}
    second = await dealer(
        conn, tmp_path, "Second", [box(n, dealer=2, title=t) for n, t in titles.items()]
    )

    matched = await match.run(conn, dealer_id=second.id)

    rows = await mappings(conn)
    assert (created.created, matched.attributes, matched.created) == (5, 5, 0)
    assert await conn.fetchval("SELECT count(*) FROM canonical_products") == 5
    for n in range(1, 6):
        mine, theirs = rows[f"D1-{n:05d}"], rows[f"D2-{n:05d}"]
        assert mine["match_method"] == "created" and theirs["match_method"] == "attributes"
        assert mine["canonical_product_id"] == theirs["canonical_product_id"]
        assert theirs["matcher_version"] == match.MATCHER_VERSION and theirs["match_score"] > 0.45
        assert not theirs["needs_match"]


async def test_price_change_keeps_the_mapping_and_causes_no_rematch(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = [box(n, dealer=1) for n in range(1, 6)]
    acme = await dealer(conn, tmp_path, "Acme", rows)
    await match.run(conn, dealer_id=acme.id)
    await conn.execute("UPDATE canonical_products SET benchmark_dirty = false")
    before = await mappings(conn)
    rows[2]["price"] = "9.99"

    await acme.load(rows)
    again = await match.run(conn, dealer_id=acme.id)

    assert await mappings(conn) == before
    assert (again.gtin, again.brand_mpn, again.attributes, again.created) == (0, 0, 0, 0)
    dirty = await conn.fetch("SELECT id FROM canonical_products WHERE benchmark_dirty")
    assert [r["id"] for r in dirty] == [before["D1-00003"]["canonical_product_id"]]


async def test_manual_mapping_survives_an_attribute_change(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rows = [box(1, dealer=1), box(2, dealer=1)]
    acme = await dealer(conn, tmp_path, "Acme", rows)
    await match.run(conn, dealer_id=acme.id)
    target = (await mappings(conn))["D1-00002"]["canonical_product_id"]
    await conn.execute(
        "UPDATE dealer_skus SET canonical_product_id = $1, match_method = 'manual', "
        "match_score = NULL WHERE sku = 'D1-00001'",
        target,
    )
    rows[0]["title"] = "Something else entirely 9mm 101gr"

    await acme.load(rows)
    await match.run(conn, dealer_id=acme.id)

    row = (await mappings(conn))["D1-00001"]
    assert (row["canonical_product_id"], row["match_method"], row["needs_match"]) == (
        target, "manual", False,
    )  # fmt: skip


async def test_gtin_with_leading_zeros_matches_a_trusted_feed_only(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    product = await conn.fetchval(
        "INSERT INTO canonical_products (name, gtin, brand, caliber, grain, round_count) "
        "VALUES ('Some product', '00012345678905', 'Other', '.308 Win', 150, 20) RETURNING id"
    )
    # Eleven digits: the leading zero of a UPC-A dropped by a spreadsheet.
    trusted = await dealer(conn, tmp_path, "Trusted", [box(1, dealer=1, upc="12345678905")])
    untrusted = await dealer(
        conn, tmp_path, "Untrusted", [box(1, dealer=2, upc="012345678905")],
        trust_identifiers=False,
    )  # fmt: skip

    await match.run(conn, dealer_id=trusted.id)
    await match.run(conn, dealer_id=untrusted.id)

    rows = await mappings(conn)
    assert (rows["D1-00001"]["canonical_product_id"], rows["D1-00001"]["match_method"]) == (
        product, "gtin",
    )  # fmt: skip
    assert rows["D2-00001"]["canonical_product_id"] != product


async def test_conflicting_round_counts_never_match(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    product = await conn.fetchval(
        "INSERT INTO canonical_products (name, brand, mpn, caliber, grain, round_count) "
        "SELECT title, brand, 'AE9DP', caliber, grain, 50 FROM (VALUES (1)) v, "
        "LATERAL (SELECT 'Federal American Eagle 9mm Luger 115gr FMJ Line 15 - 50 Rounds' AS title,"
        " 'Federal' AS brand, NULL::text AS caliber, 115 AS grain) p RETURNING id"
    )
    await conn.execute("UPDATE canonical_products SET caliber = '9mm Luger' WHERE id = $1", product)
    rows = [
        box(15, dealer=1, sku="SAME-MPN", mpn="AE9DP", grain="115", rounds="20",
            title="Federal American Eagle 9mm Luger 115gr FMJ Line 15 - 20 Rounds"),
        box(15, dealer=1, sku="SAME-BLOCK", grain="115", rounds="100",
            title="Federal American Eagle 9mm Luger 115gr FMJ Line 15 - 100 Rounds"),
    ]  # fmt: skip
    acme = await dealer(conn, tmp_path, "Acme", rows)

    await match.run(conn, dealer_id=acme.id)

    found = await mappings(conn)
    assert product not in {r["canonical_product_id"] for r in found.values()}
    assert {r["match_method"] for r in found.values()} == {"created"}


async def test_two_close_candidates_go_to_review_with_a_reason(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await conn.execute(
        "INSERT INTO canonical_products (name, brand, caliber, grain, round_count) VALUES "
        "('Federal American Eagle 9mm Luger 101gr FMJ Line 1 - 50 Rounds', 'Federal', "
        "'9mm Luger', 101, 50), "
        "('Federal American Eagle 9mm Luger 101gr FMJ Line 1 - 50 Rounds!', 'Federal', "
        "'9mm Luger', 101, 50)"
    )
    acme = await dealer(conn, tmp_path, "Acme", [box(1, dealer=1)])

    result = await match.run(conn, dealer_id=acme.id)

    row = (await mappings(conn))["D1-00001"]
    assert (result.attributes, row["match_method"], row["canonical_product_id"]) == (
        1, "review", None,
    )  # fmt: skip
    assert "too close" in row["match_review_reason"]


async def test_incomplete_sku_is_unmatched_with_the_missing_fields(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    acme = await dealer(
        conn, tmp_path, "Acme", [box(1, dealer=1, grain="", title="Federal range pack")]
    )

    result = await match.run(conn, dealer_id=acme.id)

    row = (await mappings(conn))["D1-00001"]
    assert (result.unmatched, row["match_method"], row["needs_match"]) == (1, "unmatched", False)
    assert "missing grain" in row["match_review_reason"]


async def count_match_statements(conn: asyncpg.Connection, d: Dealer) -> int:
    """Statements but ANALYZE: the one that depends on size, on purpose (after a large
    change the planner needs statistics; see the next test)."""
    with StatementCounter(conn) as counter:
        await match.run(conn, dealer_id=d.id)
    return len([s for s in counter.statements if "ANALYZE dealer_skus" not in s])


async def test_match_statements_do_not_grow_with_skus(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    small = await dealer(conn, tmp_path, "Small", [box(n, dealer=1) for n in range(100)])
    big = await dealer(conn, tmp_path, "Big", [box(n, dealer=2) for n in range(10_000)])

    assert await count_match_statements(conn, small) == await count_match_statements(conn, big)
    assert await conn.fetchval("SELECT count(*) FROM dealer_skus WHERE needs_match") == 0


async def test_a_large_match_refreshes_the_planner_statistics(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    small = await dealer(conn, tmp_path, "Small", [box(n, dealer=1) for n in range(100)])
    await match.run(conn, dealer_id=small.id)
    await conn.execute("ANALYZE dealer_skus")
    big = await dealer(conn, tmp_path, "Big", [box(n, dealer=2) for n in range(2_000)])
    stale = await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'dealer_skus'")

    await match.run(conn, dealer_id=big.id)

    fresh = await conn.fetchval("SELECT reltuples FROM pg_class WHERE relname = 'dealer_skus'")
    assert (stale, fresh) == (100, 2_100)


async def test_different_gtins_in_one_block_are_two_products(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    first = await dealer(conn, tmp_path, "First", [box(1, dealer=1, upc="012345678905")])
    await match.run(conn, dealer_id=first.id)
    second = await dealer(conn, tmp_path, "Second", [box(1, dealer=2, upc="036000291452")])

    await match.run(conn, dealer_id=second.id)

    rows = await mappings(conn)
    assert rows["D1-00001"]["canonical_product_id"] != rows["D2-00001"]["canonical_product_id"]
    assert rows["D2-00001"]["match_method"] == "created"


async def test_a_mapping_changed_by_hand_is_still_handed_to_benchmark(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """The matcher marks its own mappings' products; any other writer relies on the trigger."""
    acme = await dealer(conn, tmp_path, "Acme", [box(1, dealer=1), box(2, dealer=1)])
    await match.run(conn, dealer_id=acme.id)
    pending_after_match = await conn.fetchval(
        "SELECT count(*) FROM dealer_skus WHERE benchmark_pending"
    )
    target = (await mappings(conn))["D1-00002"]["canonical_product_id"]

    await conn.execute(
        "UPDATE dealer_skus SET canonical_product_id = $1, match_method = 'manual' "
        "WHERE sku = 'D1-00001'",
        target,
    )

    assert pending_after_match == 0
    flagged = await conn.fetch("SELECT sku FROM dealer_skus WHERE benchmark_pending")
    assert [r["sku"] for r in flagged] == ["D1-00001"]
