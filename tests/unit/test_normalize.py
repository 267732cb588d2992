"""Row normalization: prices, stock, GTINs, identity, and the ammunition attributes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.feeds import calibers, normalize
from pipeline.records import Offer, ParsedRow, Quarantined


def row(extra: dict[str, str] | None = None, **fields: str) -> ParsedRow:
    return ParsedRow(row_number=7, raw="the raw line", fields=fields, extra=extra or {})


def offer(**fields: str) -> Offer:
    result = normalize.normalize(row(**fields))
    assert isinstance(result, Offer), result
    return result


def quarantined(**fields: str) -> Quarantined:
    result = normalize.normalize(row(**fields))
    assert isinstance(result, Quarantined), result
    return result


# Prices


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,299.99", "1299.99"),
        ("159.00 USD", "159.00"),
        ("99 USD", "99"),
        ("USD 12.50", "12.50"),
        (".5", "0.5"),
        ("12", "12"),
        (" $ 18.99 ", "18.99"),
        ("1.299,99 EUR", "1299.99"),
        ("12,50 €", "12.50"),
        ("1,299", "1299"),
        ("-5", "-5"),
    ],
)
def test_parse_price_reads_common_price_texts(text: str, expected: str) -> None:
    assert normalize.parse_price(text) == Decimal(expected)


@pytest.mark.parametrize("text", [None, "", "abc", "call for price", "12.99.99.x", "$"])
def test_parse_price_returns_none_for_non_prices(text: str | None) -> None:
    assert normalize.parse_price(text) is None


def test_price_is_quantized_to_cents_half_up() -> None:
    assert offer(sku="A1", price="10.005").price == Decimal("10.01")
    assert offer(sku="A1", price=".5").price == Decimal("0.50")


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("abc", "price 'abc' is not a number"),
        ("-5", "price -5 is negative"),
        (".00", "price 0 is not a valid offer"),
        ("0 USD", "price 0 is not a valid offer"),
    ],
)
def test_an_unusable_price_is_quarantined_with_a_readable_reason(price: str, reason: str) -> None:
    result = quarantined(sku="A1", price=price)

    assert result.reasons == (reason,)
    assert (result.row_number, result.raw) == (7, "the raw line")


def test_a_missing_price_is_quarantined() -> None:
    assert quarantined(sku="A1", price="  ").reasons == ("no price",)


def test_a_lower_sale_price_wins_and_keeps_the_regular_price() -> None:
    result = offer(sku="A1", price="33.99 USD", sale_price="25.49 USD")

    assert (result.price, result.regular_price) == (Decimal("25.49"), Decimal("33.99"))


@pytest.mark.parametrize("sale_price", ["40.00", "33.99", "abc", "0"])
def test_a_sale_price_that_is_not_lower_or_not_valid_is_ignored(sale_price: str) -> None:
    result = offer(sku="A1", price="33.99", sale_price=sale_price)

    assert (result.price, result.regular_price) == (Decimal("33.99"), None)


@pytest.mark.parametrize("price", [None, ".00", "n/a"])
def test_a_valid_sale_price_serves_when_the_regular_price_does_not(price: str | None) -> None:
    fields = {"sku": "A1", "sale_price": "9.99"} | ({"price": price} if price else {})

    result = offer(**fields)

    assert (result.price, result.regular_price) == (Decimal("9.99"), None)


def test_price_per_round_divides_by_the_round_count_to_four_places() -> None:
    result = offer(sku="A1", price="18.99", title="Federal 9mm 115gr FMJ 50 Rounds")

    assert result.round_count == 50
    assert result.price_per_round == Decimal("0.3798")


def test_price_per_round_is_none_without_a_round_count() -> None:
    assert offer(sku="A1", price="18.99", title="Range bag").price_per_round is None


# Stock


@pytest.mark.parametrize(
    "text",
    ["in stock", "In Stock", "instock", "in_stock", "InStock", "available", "yes", "Y", "true", "1",
     "in stock (12)", "http://schema.org/InStock", "Limited stock"],
)  # fmt: skip
def test_in_stock_words(text: str) -> None:
    assert normalize.parse_availability(text, None) is True


@pytest.mark.parametrize(
    "text",
    ["out of stock", "Out-of-Stock", "outofstock", "no", "N", "false", "0", "sold out",
     "unavailable", "not available", "preorder", "pre-order", "backorder", "Backordered",
     "discontinued"],
)  # fmt: skip
def test_out_of_stock_words(text: str) -> None:
    assert normalize.parse_availability(text, 25) is False


@pytest.mark.parametrize(("quantity", "expected"), [(0, False), (3, True), (None, True)])
def test_quantity_decides_when_availability_says_nothing(
    quantity: int | None, expected: bool
) -> None:
    assert normalize.parse_availability(None, quantity) is expected
    assert normalize.parse_availability("call us", quantity) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12), ("12.0", 12), (" 1,200 ", 1200), ("-3", None), ("2.5", None), ("lots", None)],
)
def test_quantity_parsing(text: str, expected: int | None) -> None:
    assert normalize.parse_quantity(text) == expected


def test_offer_stock_comes_from_availability_then_quantity() -> None:
    assert offer(sku="A1", price="5", availability="out of stock").in_stock is False
    assert offer(sku="A1", price="5", quantity="0").in_stock is False
    result = offer(sku="A1", price="5", quantity="4")
    assert (result.in_stock, result.quantity) == (True, 4)


# GTIN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("012345678905", "00012345678905"),  # UPC-A, leading zero kept
        ("029465064525", "00029465064525"),
        ("4006381333931", "04006381333931"),  # EAN-13
        ("71919219405200", "71919219405200"),  # GTIN-14
        ("0 12345-67890 5", "00012345678905"),  # spaces and dashes removed
    ],
)
def test_valid_gtins_become_gtin_14(text: str, expected: str) -> None:
    assert normalize.normalize_gtin(text) == expected


@pytest.mark.parametrize(
    "text",
    ["012345678906", "4006381333932", "1234567", "123456789", "6.04544E+11", "ABC123456789",
     "00000000000000", "０１２３４５６７８９０５", ""],
)  # fmt: skip
def test_invalid_gtins_are_none(text: str) -> None:
    assert normalize.normalize_gtin(text) is None


def test_an_invalid_upc_is_kept_in_extra_and_does_not_quarantine() -> None:
    result = offer(sku="A1", price="5", upc="6.04544E+11")

    assert result.gtin is None
    assert result.extra["upc_invalid"] == "6.04544E+11"


# Identity and text


def test_a_row_without_sku_gtin_or_title_is_quarantined() -> None:
    result = quarantined(price="5", brand="Federal")

    assert result.reasons == ("no identity: no sku, gtin or title",)


def test_every_reason_is_collected_before_deciding() -> None:
    result = quarantined(brand="Federal", price="abc")

    assert result.reasons == ("price 'abc' is not a number", "no identity: no sku, gtin or title")


def test_a_valid_gtin_alone_is_an_identity_and_becomes_the_title() -> None:
    result = offer(upc="029465064525", price="5")

    assert (result.sku, result.gtin, result.title) == (None, "00029465064525", "00029465064525")


def test_title_falls_back_to_mpn_then_sku() -> None:
    assert offer(sku="A1", mpn="AE9DP", price="5").title == "AE9DP"
    assert offer(sku="A1", price="5").title == "A1"


def test_an_mpn_alone_is_not_an_identity() -> None:
    assert quarantined(mpn="AE9DP", price="5").reasons == ("no identity: no sku, gtin or title",)


def test_title_is_unescaped_stripped_of_tags_collapsed_and_trimmed() -> None:
    result = offer(
        sku="A1", price="5", title="  <b>Federal</b>&nbsp;9mm &amp;\n  more " + "x" * 600
    )

    assert result.title.startswith("Federal 9mm & more xxx")
    assert len(result.title) == 500


def test_sku_is_trimmed_but_otherwise_kept_as_given() -> None:
    assert offer(sku="  AE-9DP/50  ", price="5").sku == "AE-9DP/50"


def test_fields_without_an_offer_slot_travel_in_extra() -> None:
    result = normalize.normalize(
        row(
            {"Color": "red"},
            sku="A1",
            price="5",
            description="Great &lt;P&gt; ammo",
            category="Ammo > 9mm",
            image_url="http://x/a.jpg",
        )
    )

    assert isinstance(result, Offer)
    assert result.extra == {
        "Color": "red",
        "description": "Great ammo",
        "category": "Ammo > 9mm",
        "image_url": "http://x/a.jpg",
    }


# Calibers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9mm", "9mm Luger"),
        ("9 MM", "9mm Luger"),
        ("9x19", "9mm Luger"),
        ("9x19mm", "9mm Luger"),
        ("9mm Luger", "9mm Luger"),
        ("9mm Parabellum", "9mm Luger"),
        ("9mm Para", "9mm Luger"),
        ("9mm NATO", "9mm Luger"),
        ("380 Auto", ".380 ACP"),
        ("9mm Kurz", ".380 ACP"),
        (".40 S&W", ".40 S&W"),
        ("45 Auto", ".45 ACP"),
        ("10mm Auto", "10mm Auto"),
        ("38 Spl", ".38 Special"),
        (".357 Mag", ".357 Magnum"),
        ("357 SIG", ".357 SIG"),
        ("44 Magnum", ".44 Magnum"),
        ("45 Colt", ".45 Colt"),
        ("22 Long Rifle", ".22 LR"),
        ("22LR", ".22 LR"),
        ("22 Mag", ".22 WMR"),
        ("17 HMR", ".17 HMR"),
        ("223 Rem", ".223 Remington"),
        ("5.56 NATO", "5.56x45mm NATO"),
        ("5.56x45", "5.56x45mm NATO"),
        ("556 NATO", "5.56x45mm NATO"),
        (".308 Win", ".308 Winchester"),
        ("7.62x51mm", "7.62x51mm NATO"),
        ("7.62x39", "7.62x39mm"),
        ("6.5 Creedmoor", "6.5 Creedmoor"),
        ("300 BLK", ".300 AAC Blackout"),
        ("300 Blackout", ".300 AAC Blackout"),
        ("30-06", ".30-06 Springfield"),
        (".300 Win Mag", ".300 Win Mag"),
        ("243 Win", ".243 Winchester"),
        (".270 Winchester", ".270 Winchester"),
        ("5.7x28mm", "5.7x28mm"),
        ("50 BMG", ".50 BMG"),
        ("12ga", "12 Gauge"),
        ("12 GA", "12 Gauge"),
        ("12-Gauge", "12 Gauge"),
        ("20 Gauge", "20 Gauge"),
        (".410 Bore", ".410 Bore"),
    ],
)
def test_caliber_aliases_map_to_one_canonical_name(text: str, expected: str) -> None:
    assert normalize.normalize_caliber(text) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("PMC Bronze .223 Rem 55gr FMJ", ".223 Remington"),
        ("Lake City 5.56x45 M193 55gr", "5.56x45mm NATO"),
        ("Hornady .308 Win 168gr BTHP", ".308 Winchester"),
        ("IMI 7.62x51 NATO 150gr", "7.62x51mm NATO"),
        ("Wolf 9mm Makarov 94gr FMJ", "9x18mm Makarov"),
        ("Barnaul 9x18 Makarov 94gr", "9x18mm Makarov"),
        ("Federal .300 Win Mag 180gr", ".300 Win Mag"),
        ("Sig Sauer .300 Blackout 125gr", ".300 AAC Blackout"),
        ("Blazer 19mm Rocket", None),
        ("LG 22LB4510 22in TV", None),
    ],
)
def test_caliber_is_found_in_a_title(title: str, expected: str | None) -> None:
    assert calibers.find(title) == expected


def test_every_alias_names_a_single_caliber() -> None:
    for name, aliases in calibers.CALIBERS.items():
        for alias in (name, *aliases.split("|")):
            assert calibers.canonical(alias) == name, alias
            assert calibers.find(f"Brand {alias} 50 rounds") == name, alias


def test_caliber_field_wins_over_the_title_and_unknown_text_is_kept() -> None:
    assert offer(sku="A1", price="5", caliber="9x19", title="Box .45 ACP").caliber == "9mm Luger"
    result = offer(sku="A1", price="5", caliber="6.5 PRC", title="Box .45 ACP")
    assert (result.caliber, result.extra["caliber_unrecognized"]) == (".45 ACP", "6.5 PRC")


# Round count, grain, bullet and case


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Box of 20", 20),
        ("20 Rounds", 20),
        ("20rd", 20),
        ("20 rds", 20),
        ("50-Round Box", 50),
        ("1000 Rounds Case", 1000),
        ("1,000 rounds", 1000),
        ("20/box", 20),
        ("20 ct", 20),
        ("20 Count", 20),
        ("25 per box", 25),
        ("5 Shells", 5),
        ("Federal 9mm 115gr FMJ", None),
        ("Box of 0", None),
        ("20000 rounds", None),
    ],
)
def test_round_count_phrases(text: str, expected: int | None) -> None:
    assert normalize.extract_round_count(text) == expected


def test_round_count_prefers_the_field_then_title_then_description() -> None:
    assert normalize.extract_round_count("50", "20 Rounds", "Box of 10") == 50
    assert normalize.extract_round_count(None, "20 Rounds", "Box of 10") == 20
    assert normalize.extract_round_count(None, "Federal 9mm", "Box of 10") == 10
    assert offer(sku="A1", price="5", rounds="25").round_count == 25


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("115",), 115),
        (("115gr",), 115),
        (("115 grain",), 115),
        ((None, "Federal 9mm 115gr FMJ"), 115),
        ((None, "Hornady 168 Grain BTHP"), 168),
        ((None, "CCI 40 gr. LRN"), 40),
        ((None, "Winchester 2.5 gr"), None),
        ((None, "Brenneke 1 oz slug 5 grain"), None),
        ((None, "Federal 9mm 50 Rounds"), None),
        (("5000",), None),
    ],
)
def test_grain_from_the_field_or_the_title(
    texts: tuple[str | None, ...], expected: int | None
) -> None:
    assert normalize.extract_grain(*texts) == expected


@pytest.mark.parametrize(
    ("title", "bullet", "case"),
    [
        ("Federal 9mm 115gr FMJ Brass", "FMJ", "Brass"),
        ("Speer 9mm 124gr Jacketed Hollow Point Nickel", "JHP", "Nickel"),
        ("Hornady 308 168gr BTHP", "BTHP", None),
        ("Wolf 7.62x39 122gr HP Steel Case", "HP", "Steel"),
        ("Sierra 6.5 OTM", "OTM", None),
        ("Nosler Ballistic Tip 308", "PT", None),
        ("Federal 12ga 00 Buckshot", "BUCKSHOT", None),
        ("Remington 12ga Rifled Slug", "SLUG", None),
        ("Blazer Aluminum 9mm Full-Metal-Jacket", "FMJ", "Aluminum"),
        ("Wasp spray", None, None),
    ],
)
def test_bullet_and_case_type_from_title_keywords(
    title: str, bullet: str | None, case: str | None
) -> None:
    result = offer(sku="A1", price="5", title=title)

    assert (result.bullet_type, result.case_type) == (bullet, case)


def test_bullet_and_case_fields_win_and_unknown_values_are_styled() -> None:
    result = offer(
        sku="A1",
        price="5",
        title="9mm FMJ Brass",
        bullet_type="full metal jacket",
        case_type="steel",
    )
    assert (result.bullet_type, result.case_type) == ("FMJ", "Steel")
    result = offer(sku="A1", price="5", bullet_type="Flex Tip", case_type="polymer")
    assert (result.bullet_type, result.case_type) == ("FLEX TIP", "Polymer")


def test_an_ammunition_row_normalizes_completely() -> None:
    result = offer(
        sku=" AE9DP ",
        title="Federal American Eagle 9mm Luger 115gr FMJ Brass 50 Rounds",
        price="$18.99",
        sale_price="16.99",
        upc="029465064525",
        availability="in stock",
        quantity="12",
        brand="Federal",
        mpn="AE9DP",
        url="https://dealer.example/ae9dp",
    )

    assert result == Offer(
        row_number=7,
        sku="AE9DP",
        gtin="00029465064525",
        title="Federal American Eagle 9mm Luger 115gr FMJ Brass 50 Rounds",
        brand="Federal",
        mpn="AE9DP",
        caliber="9mm Luger",
        grain=115,
        round_count=50,
        bullet_type="FMJ",
        case_type="Brass",
        price=Decimal("16.99"),
        regular_price=Decimal("18.99"),
        in_stock=True,
        quantity=12,
        url="https://dealer.example/ae9dp",
        price_per_round=Decimal("0.3398"),
        extra={"availability": "in stock"},
    )


def test_price_too_large_for_storage_is_quarantined() -> None:
    from pipeline.feeds.normalize import normalize
    from pipeline.records import ParsedRow, Quarantined

    result = normalize(ParsedRow(1, "x", {"sku": "A1", "title": "Box", "price": "99999999999999"}))

    assert isinstance(result, Quarantined)
    assert "implausibly large" in result.reasons[0]


def test_quantity_beyond_integer_range_is_dropped() -> None:
    from pipeline.feeds.normalize import parse_quantity

    assert parse_quantity("99999999999") is None
    assert parse_quantity("2147483647") == 2147483647
