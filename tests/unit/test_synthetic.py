"""The synthetic feed generator: reproducible, realistic, and honest about its bad rows.

Everything here reads the generated files back with the standard library (csv,
json, xml.etree) and checks them against independent rules, not against the
generator's own helpers.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import random
import re
import tracemalloc
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from pipeline import synthetic
from pipeline.synthetic import DealerRow, Product, products, rows, writers

G = "{http://base.google.com/ns/1.0}"
SMALL_DEMO = (300, 250, 200, 150, 80)


def gs1_valid(code: str) -> bool:
    """GS1 mod-10, written out: weights 3, 1, 3 ... from the digit left of the check digit."""
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (total + check) % 10 == 0


def upc_digits(written: str) -> str:
    """A UPC as a dealer wrote it, back to 12 digits (dashes out, dropped zeros back)."""
    return written.replace("-", "").zfill(12)


def feed(
    dealer: int = 0, n: int = 1000, *, seed: int = 1, bad: float = 0.0, catalogue_size: int = 0
) -> synthetic.DealerFeed:
    """Dealer ``dealer``'s rows from a catalogue half again as big as ``n`` (or as given)."""
    catalogue = synthetic.catalogue(catalogue_size or n * 3 // 2, seed)
    return synthetic.dealer_rows(dealer, catalogue, n, seed, malformed_fraction=bad)


def read_back(path: Path, fmt: str) -> list[Any]:
    """The data records of a written feed: lists of fields for delimited formats
    (header excluded), dicts for JSON, ``<item>`` elements for XML."""
    if fmt in ("csv", "tsv"):
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.reader(f, delimiter="," if fmt == "csv" else "\t"))[1:]
    text = path.read_text(encoding="utf-8")
    if fmt == "pipe":
        return [line.split("|") for line in text.splitlines()]
    if fmt == "json":
        return list(json.loads(text))
    if fmt == "json-wrapped":
        return list(json.loads(text)["products"])
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    return ET.parse(path).getroot().findall("./channel/item")


def file_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# Reproducibility


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    for run in ("a", "b"):
        for version in (1, 2):
            synthetic.build_feed_set(tmp_path / run, 11, version, skus_per_dealer=SMALL_DEMO)
    first, second = file_bytes(tmp_path / "a"), file_bytes(tmp_path / "b")
    assert len(first) == 10
    assert first == second
    for run in ("a", "b"):
        synthetic.write_tier_feed(tmp_path / f"tier-{run}.xml", 3000, 11, "xml", 0.01)
    assert (tmp_path / "tier-a.xml").read_bytes() == (tmp_path / "tier-b.xml").read_bytes()


def test_different_seed_writes_different_feeds(tmp_path: Path) -> None:
    synthetic.build_feed_set(tmp_path / "a", 11, 1, skus_per_dealer=SMALL_DEMO)
    synthetic.build_feed_set(tmp_path / "b", 12, 1, skus_per_dealer=SMALL_DEMO)
    first, second = file_bytes(tmp_path / "a"), file_bytes(tmp_path / "b")
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_generator_never_touches_the_global_random(tmp_path: Path) -> None:
    random.seed(5)
    expected = random.random()
    random.seed(5)
    synthetic.mutate(feed(n=200, bad=0.05).rows, 1, products=synthetic.catalogue(300, 1))
    synthetic.write_tier_feed(tmp_path / "tier.csv", 50, 3)
    assert random.random() == expected


def test_streamed_rows_equal_the_listed_rows() -> None:
    catalogue = synthetic.catalogue(500, 4)
    listed = synthetic.dealer_rows(3, catalogue, 400, 4).rows
    assert list(synthetic.iter_dealer_rows(3, catalogue, 400, 4)) == listed
    assert list(synthetic.iter_catalogue(500, 4)) == catalogue


# The catalogue


def test_every_gtin_and_written_upc_passes_the_gs1_check() -> None:
    catalogue = synthetic.catalogue(5000, 2)
    assert all(len(p.gtin) == 12 and gs1_valid(p.gtin) for p in catalogue)
    assert sum(p.gtin.startswith("0") for p in catalogue) > 1000  # leading zeros matter
    written = [r for d in range(5) for r in feed(d, 1000, seed=2).rows if r.upc]
    assert all(gs1_valid(upc_digits(r.upc)) for r in written)
    assert all(upc_digits(r.upc) == r.product_gtin for r in written)


def test_gtins_and_part_numbers_are_unique() -> None:
    catalogue = synthetic.catalogue(20_000, 9)
    assert len({p.gtin for p in catalogue}) == len(catalogue)
    assert len({(p.brand, p.mpn) for p in catalogue}) == len(catalogue)


def test_gtins_stay_unique_and_valid_past_a_company_prefix_capacity() -> None:
    numbers = products._Numbers(random.Random(1))
    gtins = [numbers.gtin("Underwood") for _ in range(100_050)]
    assert len(set(gtins)) == len(gtins)
    assert gtins[0].startswith("081713")
    assert not gtins[-1].startswith("081713")
    assert all(gs1_valid(g) for g in gtins[-100:])


def test_catalogue_looks_like_the_ammunition_market() -> None:
    catalogue = synthetic.catalogue(10_000, 3)
    by_caliber = Counter(p.caliber for p in catalogue)
    assert by_caliber.most_common(1)[0][0] == "9mm Luger"
    assert len(by_caliber) >= 15
    grains = {
        "9mm Luger": {115, 124, 147},
        ".223 Remington": {55, 62, 69, 77},
        ".45 ACP": {185, 200, 230},
    }
    for product in catalogue:
        if product.caliber in grains:
            assert product.grain in grains[product.caliber]
        if product.category == "Shotgun":
            assert product.grain is None and product.shot
        else:
            assert product.grain and product.shot is None
        assert product.case_type in {"Brass", "Steel", "Nickel", "Aluminum", "Plastic"}
        assert product.rounds in {5, 10, 20, 25, 50, 100, 250, 500, 1000}
    nine_fmj = [p.price_per_round for p in catalogue if p.caliber == "9mm Luger"
                and p.bullet_type == "FMJ" and p.case_type == "Brass"]  # fmt: skip
    rimfire = [p.price_per_round for p in catalogue if p.caliber == ".22 LR"]
    rifle = [p.price_per_round for p in catalogue
             if p.caliber == ".308 Winchester" and p.case_type == "Brass"]  # fmt: skip
    assert Decimal("0.18") <= min(nine_fmj) and max(nine_fmj) <= Decimal("0.45")
    assert max(rimfire) <= Decimal("0.15") and Decimal("0.06") <= median(rimfire) <= Decimal("0.12")
    assert min(rifle) >= Decimal("0.90")


def test_products_are_frozen_and_equal_to_constructed_ones() -> None:
    product = synthetic.catalogue(1, 1)[0]
    rebuilt = Product(**{f.name: getattr(product, f.name) for f in dataclasses.fields(Product)})
    assert product == rebuilt and hash(product) == hash(rebuilt)
    with pytest.raises(dataclasses.FrozenInstanceError):
        product.price_per_round = Decimal(0)  # type: ignore[misc]


# Dealer rows


@pytest.mark.parametrize(
    ("dealer", "rounds_pattern", "grain_pattern"),
    [
        (0, r" - (\d+) Rounds$", r" (\d+)gr [A-Z]+ "),
        (1, r" (\d+)RD (?:BOX|CASE)$", r" (\d+)GR [A-Z]+ "),
        (2, r", (?:Box|Case) of (\d+)$", r" (\d+) Grain [A-Z]"),
    ],
)
def test_titles_state_caliber_grain_and_rounds_in_the_dealers_style(
    dealer: int, rounds_pattern: str, grain_pattern: str
) -> None:
    for row in feed(dealer, 800).rows:
        rounds, grain = re.search(rounds_pattern, row.title), re.search(grain_pattern, row.title)
        assert rounds and int(rounds[1]) == row.rounds, row.title
        assert row.caliber in row.title
        if row.grain is None:
            assert grain is None and row.category == "Shotgun", row.title
        else:
            assert grain and int(grain[1]) == row.grain, row.title


def test_example_titles_read_as_dealers_write_them() -> None:
    product = Product("029465088637", "Federal", "American Eagle", "AE9DP", "9mm Luger",
                      "Handgun", 115, None, "FMJ", "Brass", 50, Decimal("0.30"))  # fmt: skip
    titles = [rows.RowMaker(d, 1, random.Random(1)).row(product).title for d in (0, 1, 2)]
    assert titles == [
        "Federal American Eagle 9mm Luger 115gr FMJ - 50 Rounds",
        "9MM 115GR FMJ AMERICAN EAGLE 50RD BOX",
        "American Eagle 9x19 115 Grain Full Metal Jacket, Box of 50",
    ]


def test_good_rows_have_distinct_skus_sane_prices_and_realistic_gaps() -> None:
    good = [r for d in range(5) for r in feed(d, 2000, seed=6, catalogue_size=3000).rows]
    for dealer in range(5):
        skus = [r.sku for r in good if r.dealer_index == dealer]
        assert len(skus) == len(set(skus)) == 2000
    assert all(Decimal(r.price) > 0 for r in good)
    assert all(Decimal(r.sale_price) < Decimal(r.price) for r in good if r.sale_price)
    n = len(good)
    assert 0.03 < sum(bool(r.sale_price) for r in good) / n < 0.07
    assert 0.82 < sum(r.in_stock for r in good) / n < 0.88
    assert all((r.quantity > 0) == r.in_stock for r in good)
    assert 0.17 < sum(not r.upc for r in good) / n < 0.23
    mangled = [r.upc for r in good if r.upc and len(r.upc) != 12]
    assert 0.03 < len(mangled) / n < 0.07
    assert any("-" in upc for upc in mangled) and any(len(upc) < 12 for upc in mangled)


def test_dealer_markup_moves_prices_between_dealers() -> None:
    markups = [rows.dealer_markup(d, 7) for d in range(5)]
    assert all(0.9 <= m <= 1.2 for m in markups)
    assert len(set(markups)) == 5


@pytest.mark.parametrize("dealer", range(5))
def test_more_skus_than_products_adds_case_packs_under_new_codes(dealer: int) -> None:
    catalogue = {p.gtin: p for p in synthetic.catalogue(100, 1)}
    result = synthetic.dealer_rows(dealer, list(catalogue.values()), 600, 1, malformed_fraction=0)
    assert len({r.sku for r in result.rows}) == 600
    assert {r.product_gtin for r in result.rows} == catalogue.keys()
    packs = [r for r in result.rows if r.rounds != catalogue[r.product_gtin].rounds]
    assert len(packs) == 500
    assert all(r.rounds > catalogue[r.product_gtin].rounds and not r.upc for r in packs)


def test_malformed_rows_read_back_as_expected(tmp_path: Path) -> None:
    result = feed(0, 3000, seed=8, bad=0.02)
    path = tmp_path / "feed.csv"
    written = synthetic.write_feed(result.rows, path, "csv")
    assert written == result.expected
    header_width = len(path.read_text().splitlines()[0].split(","))
    seen: set[str] = set()
    found: Counter[str] = Counter()
    for record in read_back(path, "csv"):
        found[_defect(record, header_width, seen)] += 1
        seen.add(record[0])
    assert found.pop("valid") == result.expected.valid == 3000
    assert found.pop("duplicate_sku") == result.expected.duplicates == 10
    assert dict(found) == result.expected.bad
    assert set(found) == set(synthetic.DEFECTS) - {"duplicate_sku"}
    assert result.expected.rows == 3060


def _defect(record: list[str], width: int, seen: set[str]) -> str:
    """What is wrong with a "snake" layout CSV record, judged from its text alone."""
    sku, title, price, upc = record[0], record[1], record[2], record[4]
    if len(record) > width:
        return "extra_columns"
    if not (sku or upc or title):
        return "no_identity"
    if price == "":
        return "price_empty"
    try:
        amount = Decimal(price)
    except InvalidOperation:
        return "price_text"
    if amount < 0:
        return "price_negative"
    return "duplicate_sku" if sku in seen else "valid"


def test_duplicates_repeat_an_earlier_sku_at_another_price() -> None:
    result = feed(1, 2000, bad=0.03)
    first: dict[str, DealerRow] = {}
    for row in result.rows:
        if row.defect == "duplicate_sku":
            assert row.sku in first and row.price != first[row.sku].price
        elif row.defect is None:
            first[row.sku] = row
    assert result.expected.duplicates == 10


def test_keyed_formats_count_extra_columns_as_loadable(tmp_path: Path) -> None:
    result = feed(0, 600, bad=0.05)
    extra = result.expected.bad["extra_columns"]
    keyed = synthetic.write_feed(result.rows, tmp_path / "f.json", "json")
    assert "extra_columns" not in keyed.bad
    assert keyed.valid == result.expected.valid + extra
    assert keyed.rows == result.expected.rows


# Version 2


def test_mutate_changes_the_requested_fractions_and_reports_exactly() -> None:
    catalogue = synthetic.catalogue(3000, 5)
    v1 = synthetic.dealer_rows(0, catalogue, 2000, 5, malformed_fraction=0.01).rows
    v2, changes = synthetic.mutate(v1, 6, products=catalogue)
    before = {r.sku: r for r in v1 if r.defect is None}
    after = {r.sku: r for r in v2 if r.defect is None}
    common = before.keys() & after.keys()
    priced = {s for s in common if before[s].price != after[s].price}
    stocked = {s for s in common if before[s].in_stock != after[s].in_stock}
    assert priced == changes.price_changed and stocked == changes.stock_changed
    assert not priced & stocked
    assert len(priced) + len(stocked) == 200  # 10% of 2000
    assert abs(len(priced) - len(stocked)) <= 1
    assert before.keys() - after.keys() == changes.removed and len(changes.removed) == 40
    assert after.keys() - before.keys() == changes.added and len(changes.added) == 20
    untouched = common - priced - stocked
    assert all(before[s] == after[s] for s in untouched)
    assert changes.unchanged == len(untouched)
    assert [r for r in v1 if r.defect] == [r for r in v2 if r.defect]
    assert changes.expected == synthetic.summarize(v2)
    assert synthetic.mutate(v1, 6, products=catalogue).rows == v2


def test_mutate_scales_with_the_fractions_asked_for() -> None:
    catalogue = synthetic.catalogue(1500, 5)
    v1 = synthetic.dealer_rows(4, catalogue, 1000, 5, malformed_fraction=0).rows
    _, changes = synthetic.mutate(
        v1, 1, change_fraction=0.3, remove_fraction=0.1, add_count=7, products=catalogue
    )
    assert changes.counts() == {
        "price_changed": 150, "stock_changed": 150, "removed": 100, "added": 7, "unchanged": 600,
    }  # fmt: skip


def test_added_skus_are_new_to_the_feed_even_without_fresh_products() -> None:
    catalogue = synthetic.catalogue(200, 5)
    v1 = synthetic.dealer_rows(1, catalogue, 200, 5).rows  # carries the whole catalogue
    v2, changes = synthetic.mutate(v1, 2, add_count=30, products=catalogue)
    assert len(changes.added) == 30
    assert not changes.added & {r.sku for r in v1}
    assert len({r.sku for r in v2 if r.defect is None}) == changes.expected.valid


# Writers


@pytest.mark.parametrize("fmt", writers.FORMATS)
def test_each_writer_reads_back_with_the_standard_library(tmp_path: Path, fmt: str) -> None:
    result = feed(3, 700, bad=0.0)
    path = tmp_path / f"feed.{fmt}"
    expected = synthetic.write_feed(result.rows, path, fmt)
    records = read_back(path, fmt)
    assert len(records) == expected.rows == expected.valid == 700
    first, row = records[0], result.rows[0]
    if fmt == "xml":
        assert first.findtext(f"{G}id") == row.sku
        assert first.findtext("title") == row.title
        assert first.findtext(f"{G}price") == f"{row.price} USD"
        assert first.findtext(f"{G}availability") in {"in stock", "out of stock"}
    elif fmt in ("json", "json-wrapped", "jsonl"):
        assert first["id"] == row.sku and first["name"] == row.title
        assert Decimal(str(first["price"])) == Decimal(row.price)
    else:
        assert row.sku in first and row.title in first


def test_xml_is_google_merchant_rss_with_ammo_details_only_in_titles(tmp_path: Path) -> None:
    result = feed(3, 400, bad=0.02)
    path = tmp_path / "feed.xml"
    synthetic.write_feed(result.rows, path, "xml", merchant="Sellier & Co <Test>")
    text = path.read_text()
    assert 'xmlns:g="http://base.google.com/ns/1.0"' in text
    assert "caliber" not in text.lower() and "grain>" not in text
    root = ET.parse(path).getroot()
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert root.findtext("./channel/title") == "Sellier & Co <Test>"
    items = root.findall("./channel/item")
    assert len(items) == result.expected.rows
    good = [(item, row) for item, row in zip(items, result.rows, strict=True) if not row.defect]
    for item, row in good:
        assert item.findtext(f"{G}gtin") == (row.upc or None)
        assert item.findtext(f"{G}brand") == row.brand and item.findtext(f"{G}mpn") == row.mpn
        assert item.findtext(f"{G}sale_price") == (
            f"{row.sale_price} USD" if row.sale_price else None
        )
        assert f"{row.rounds} Rounds" in (item.findtext("title") or "")


def test_pipe_feed_is_headerless_with_51_fields_a_line(tmp_path: Path) -> None:
    result = feed(4, 500, bad=0.0)
    path = tmp_path / "feed.txt"
    synthetic.write_feed(result.rows, path, "pipe", merchant="Prairie Ammo Co")
    lines = path.read_text().splitlines()
    assert len(lines) == 500
    assert all(line.count("|") == 50 for line in lines)
    fields = lines[0].split("|")
    row = result.rows[0]
    assert fields[0] == row.sku != "ProductID"
    assert fields[1] == row.title and fields[3] == "Prairie Ammo Co"
    assert fields[7] == (row.sale_price or row.price)
    assert fields[18] in {"instock", "soldout"} and fields[25] == row.upc


def test_pipe_extra_column_rows_carry_more_than_51_fields(tmp_path: Path) -> None:
    result = feed(4, 600, bad=0.05)
    path = tmp_path / "feed.txt"
    written = synthetic.write_feed(result.rows, path, "pipe")
    widths = Counter(len(line.split("|")) for line in path.read_text().splitlines())
    assert widths[51] == written.rows - written.bad["extra_columns"]
    assert sum(n for width, n in widths.items() if width > 51) == written.bad["extra_columns"]


def test_delimited_headers_follow_the_dealer_layout(tmp_path: Path) -> None:
    result = feed(0, 50)
    for fmt, layout, first in [("csv", None, "sku,title,price,sale_price,upc"),
                               ("tsv", None, "Item Number\tProduct Name\tRetail Price"),
                               ("csv", "title", "SKU,Name,Regular Price,Sale Price")]:  # fmt: skip
        path = tmp_path / f"feed-{layout}.{fmt}"
        synthetic.write_feed(result.rows, path, fmt, layout=layout)
        assert path.read_text().startswith(first)


def test_fast_csv_lines_equal_what_csv_writer_writes(tmp_path: Path) -> None:
    result = feed(2, 300, bad=0.05)  # verbose titles carry commas
    tricky = [dataclasses.replace(result.rows[0], title='Hornady 9mm "Critical"\nDefense'),
              dataclasses.replace(result.rows[1], title="A\tB\rC")]  # fmt: skip
    all_rows = [*tricky, *result.rows]
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        path = tmp_path / f"f.{fmt}"
        synthetic.write_feed(all_rows, path, fmt, layout="snake")
        reference = tmp_path / f"ref.{fmt}"
        with reference.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
            header, values = writers.LAYOUTS["snake"]
            writer.writerow(header)
            for row in all_rows:
                fields = values(row)
                if row.defect == "extra_columns":
                    fields.extend(writers.SURPLUS)
                writer.writerow(fields)
        assert path.read_bytes() == reference.read_bytes()


def test_unknown_format_or_layout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown feed format"):
        synthetic.write_feed([], tmp_path / "f", "yaml")
    with pytest.raises(ValueError, match="unknown column layout"):
        synthetic.write_feed([], tmp_path / "f", "csv", layout="api")


# Feed sets


def test_demo_dealers_cover_every_format() -> None:
    specs = synthetic.demo_dealers()
    assert [s.fmt for s in specs] == ["csv", "tsv", "json", "xml", "pipe"]
    assert [s.n_skus for s in specs] == [3000, 2500, 2000, 1500, 800]
    assert specs[4].profile == "shareasale" and specs[3].profile == "google-merchant"
    assert len({s.name for s in specs}) == 5


def test_feed_set_files_hold_the_rows_their_summaries_promise(tmp_path: Path) -> None:
    for version in (1, 2):
        files = synthetic.build_feed_set(tmp_path, 3, version, skus_per_dealer=SMALL_DEMO)
        for written in files:
            assert written.path.name.endswith(f"-v{version}.{writers.EXTENSIONS[written.fmt]}")
            assert len(read_back(written.path, written.fmt)) == written.expected.rows
            if version == 2:
                assert written.changes and len(written.changes.price_changed) > 0
            else:
                assert written.changes is None


def test_tier_feed_streams_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "tier.csv"
    synthetic.write_tier_feed(path, 1000, 1)  # warm the module's one-off tables
    tracemalloc.start()
    try:
        expected = synthetic.write_tier_feed(path, 200_000, 1, malformed_fraction=0.001)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert expected.rows == 200_200 and expected.valid == 200_000
    with path.open(newline="") as f:
        assert sum(1 for _ in csv.reader(f)) == 200_201
