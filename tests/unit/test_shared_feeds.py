"""The four real-world feeds in /work/shared/feeds load: every row is an offer or quarantined."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.feeds import normalize, parse
from pipeline.records import Offer, Quarantined

FEEDS = Path(__file__).resolve().parents[3] / "shared" / "feeds"

GOOGLE_RSS = "google_merchant_official_example_rss2.xml"
GOOGLE_TSV = "google_merchant_tsv_lake_erie_clothing_crlf.tsv"
WOOCOMMERCE = "woocommerce_official_sample_products_bom.csv"
SHAREASALE = "shareasale_datafeed_55155_leathercoatsetc_pipe_cp1252.txt"

# File -> (parse options, data rows in the README table).
EXPECTED: dict[str, tuple[dict[str, str], int]] = {
    GOOGLE_RSS: ({}, 6),
    GOOGLE_TSV: ({}, 160),
    WOOCOMMERCE: ({}, 25),
    SHAREASALE: ({"profile": "shareasale"}, 83),
}


def load(name: str) -> list[Offer | Quarantined]:
    """Parse and normalize every row of a shared feed (fails loudly if it is missing)."""
    path = FEEDS / name
    assert path.is_file(), f"shared feed missing: {path}"
    options, _ = EXPECTED[name]
    results: list[Offer | Quarantined] = []
    for row in parse.iter_rows(path, **options):
        results.append(row if isinstance(row, Quarantined) else normalize.normalize(row))
    return results


def offers(name: str) -> list[Offer]:
    return [result for result in load(name) if isinstance(result, Offer)]


def test_the_shared_feeds_directory_exists() -> None:
    assert FEEDS.is_dir(), f"expected the shared feeds at {FEEDS}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_data_row_is_an_offer_or_quarantined(name: str) -> None:
    results = load(name)

    assert len(results) == EXPECTED[name][1]
    assert [result.row_number for result in results] == list(range(1, len(results) + 1))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_quarantine_reasons_are_human_readable(name: str) -> None:
    for result in load(name):
        if isinstance(result, Quarantined):
            assert result.reasons and result.raw
            assert all(reason[0].islower() and " " in reason for reason in result.reasons)


def test_shareasale_rows_priced_zero_are_quarantined_for_their_price() -> None:
    results = load(SHAREASALE)
    bad = [result for result in results if isinstance(result, Quarantined)]

    assert [result.reasons for result in bad] == [("price 0 is not a valid offer",)] * 3
    assert all("|.00|" in result.raw for result in bad)
    assert len(results) - len(bad) == 80


def test_shareasale_windows_1252_text_and_selling_price() -> None:
    first = offers(SHAREASALE)[0]

    assert (first.sku, first.title) == ("555320586", "Unisex 3/4 Genuine Shearling Coat")
    assert (first.price, first.extra["RetailPrice"]) == (Decimal("675.00"), "1350.00")
    descriptions = " ".join(offer.extra.get("description", "") for offer in offers(SHAREASALE))
    assert "’" in descriptions  # cp1252 0x92 and the &rsquo; entities
    assert "&lt;" not in descriptions and "<P>" not in descriptions


def test_google_rss_prices_sale_price_and_gtins() -> None:
    by_sku = {offer.sku: offer for offer in offers(GOOGLE_RSS)}

    assert len(by_sku) == 6
    assert by_sku["TV_123456"].price == Decimal("159.00")
    assert by_sku["TV_123456"].gtin == "71919219405200"
    assert by_sku["PFM654321"].price == Decimal("99.00")
    jersey = by_sku["CLO-1029384"]
    assert (jersey.price, jersey.regular_price) == (Decimal("25.49"), Decimal("33.99"))
    assert by_sku["CLO-29473856-1"].in_stock is False
    assert by_sku["DVD-0564738"].title == "Merlin: Series 3 - Volume 2 - 3 DVD Box set"
    shipping = by_sku["PFM654321"].extra["shipping"]
    assert shipping == "US:Standard Rate:4.95 USD | US:Next Day:8.50 USD"


def test_google_tsv_keeps_the_quoted_title() -> None:
    first = offers(GOOGLE_TSV)[0]

    assert first.title.startswith('"Lake Erie Loot Crew" Women\'s ')
    assert first.price == Decimal("28.00")
    assert first.sku == "98650bd8-5981-4055-8e14-5e144a04a23a"


def test_woocommerce_bom_does_not_leak_into_the_first_header() -> None:
    rows = list(parse.iter_rows(FEEDS / WOOCOMMERCE))
    first = rows[0]

    assert not isinstance(first, Quarantined)
    assert first.extra["ID"] == "44"
    assert not any(key.startswith("\ufeff") for key in first.extra)


def test_woocommerce_parents_without_a_price_are_quarantined() -> None:
    results = load(WOOCOMMERCE)
    bad = {row.row_number: row.reasons for row in results if isinstance(row, Quarantined)}

    assert bad == {1: ("no price",), 2: ("no price",), 23: ("no price",)}
    skus = {offer.sku: offer for offer in results if isinstance(offer, Offer)}
    assert (skus["woo-beanie"].price, skus["woo-beanie"].regular_price) == (
        Decimal("18.00"),
        Decimal("20.00"),
    )
    assert skus["woo-vneck-tee-red"].extra["Parent"] == "woo-vneck-tee"
