"""The insight stage: appears, updates, resolves, stays dismissed until its date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import asyncpg

from pipeline.stages import insight
from tests.chain_factories import Dealer, StatementCounter, box, chain, dealer, insights


async def market(conn: asyncpg.Connection, tmp: Path, acme_price: str) -> list[Dealer]:
    """Acme and three rivals sell product 1 (50 rounds); the rivals also sell product 2."""
    acme = await dealer(
        conn, tmp, "Acme",
        [box(1, dealer=0, price=acme_price), box(2, dealer=0, availability="out of stock"),
         box(3, dealer=0, grain="", title="Federal range pack")],
    )  # fmt: skip
    rivals = [
        await dealer(conn, tmp, f"Rival {i}", [box(1, dealer=i, price=p), box(2, dealer=i)])
        for i, p in ((1, "20.00"), (2, "21.00"), (3, "22.00"))
    ]
    await chain(conn, acme, *rivals)
    return [acme, *rivals]


async def reprice(conn: asyncpg.Connection, dealers: list[Dealer], price: str) -> None:
    acme = dealers[0]
    await acme.load(
        [box(1, dealer=0, price=price), box(2, dealer=0, availability="out of stock"),
         box(3, dealer=0, grain="", title="Federal range pack")]
    )  # fmt: skip
    await chain(conn, *dealers)


async def by_type(conn: asyncpg.Connection) -> dict[tuple[str, str], asyncpg.Record]:
    return {(r["sku"], r["type"]): r for r in await insights(conn)}


async def test_overpriced_stock_and_unmatched_insights_appear_with_their_numbers(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await market(conn, tmp_path, "30.00")

    found = await by_type(conn)

    assert set(found) == {
        ("D0-00001", "OVERPRICED"), ("D0-00002", "STOCK_OPPORTUNITY"),
        ("D0-00003", "UNMATCHED"),
    }  # fmt: skip
    over = found[("D0-00001", "OVERPRICED")]
    assert over["severity"] == "HIGH"  # 39.5% above the median, 3 other sellers
    assert "39.5% above the market median of $0.4300/round" in over["explanation"]
    assert "you rank 4 of 4" in over["explanation"]
    assert "the cheapest is $0.4000/round" in over["explanation"]
    assert "next cheaper seller $0.4400/round" in over["explanation"]
    assert "3 other sellers carry it" in found[("D0-00002", "STOCK_OPPORTUNITY")]["explanation"]
    assert "missing grain" in found[("D0-00003", "UNMATCHED")]["explanation"]


async def test_cheapest_dealer_is_told_it_is_underpriced(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    await market(conn, tmp_path, "15.00")

    found = await by_type(conn)

    under = found[("D0-00001", "UNDERPRICED")]
    assert under["severity"] == "HIGH" and "you rank 1 of 4" in under["explanation"]
    assert ("D1-00001", "UNDERPRICED") not in found  # 4.9% below: under the 8% threshold


async def test_insight_updates_in_place_then_resolves_without_being_deleted(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    dealers = await market(conn, tmp_path, "30.00")
    first = (await by_type(conn))[("D0-00001", "OVERPRICED")]

    await reprice(conn, dealers, "24.00")  # 0.48 a round: 11.6% above 0.43
    updated = (await by_type(conn))[("D0-00001", "OVERPRICED")]
    await reprice(conn, dealers, "21.50")  # at the median
    gone = await conn.fetchrow("SELECT * FROM dealer_insights WHERE id = $1", first["id"])

    assert updated["id"] == first["id"] and updated["severity"] == "MEDIUM"
    assert "11.6% above" in updated["explanation"]
    assert (gone["is_active"], gone["resolved_at"] is not None) == (False, True)
    assert ("D0-00001", "OVERPRICED") not in await by_type(conn)


async def test_dismissed_insight_stays_hidden_until_its_date(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    dealers = await market(conn, tmp_path, "30.00")
    acme = dealers[0]
    over = (await by_type(conn))[("D0-00001", "OVERPRICED")]

    await insight.dismiss(conn, over["id"], dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    await reprice(conn, dealers, "31.00")
    hidden = [r["type"] for r in await insight.active(conn, acme.id)]
    await insight.dismiss(conn, over["id"], dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    shown = [r["type"] for r in await insight.active(conn, acme.id)]

    assert "OVERPRICED" not in hidden and "OVERPRICED" in shown
    row = await conn.fetchrow("SELECT * FROM dealer_insights WHERE id = $1", over["id"])
    assert row["is_active"] and "$0.6200/round" in row["explanation"]  # kept up to date


async def test_insight_statements_do_not_grow_with_skus(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    small = await dealer(conn, tmp_path, "Small", [box(n, dealer=1) for n in range(100)])
    big = await dealer(conn, tmp_path, "Big", [box(n, dealer=2) for n in range(10_000)])
    await chain(conn, small, big)

    counts = []
    for d in (small, big):
        with StatementCounter(conn) as counter:
            await insight.run(conn, dealer_id=d.id)
        counts.append(counter.count)

    assert counts[0] == counts[1]


async def test_a_product_the_dealer_does_not_carry_is_a_stock_opportunity_until_it_does(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    rivals = [await dealer(conn, tmp_path, f"Rival {i}", [box(7, dealer=i)]) for i in (1, 2, 3)]
    acme = await dealer(conn, tmp_path, "Acme", [box(1, dealer=0)])
    await chain(conn, acme, *rivals)

    lacking = await insight.active(conn, acme.id)
    await acme.load([box(1, dealer=0), box(7, dealer=0)])
    await chain(conn, acme, *rivals)
    row = await conn.fetchrow(
        "SELECT * FROM dealer_insights WHERE dealer_id = $1 AND dealer_sku_id IS NULL", acme.id
    )

    assert [(r["type"], r["sku"]) for r in lacking] == [("STOCK_OPPORTUNITY", None)]
    assert "you do not carry" in lacking[0]["explanation"]
    assert "which 3 other sellers have in stock" in lacking[0]["explanation"]
    assert (row["is_active"], row["resolved_at"] is not None) == (False, True)
