"""Write dealer rows as the feed files dealers really publish.

Every writer streams: it takes any iterable of rows and writes each row as it
comes, so a million-row feed costs one row of memory. Each returns the
``Expected`` counts of what it wrote, tallied on the way.

Formats (``fmt``) and the column layout each uses:

- ``csv`` / ``tsv``: a header row, then one line per row; ``layout`` picks the
  column names ("snake", "retail" or "title", see ``LAYOUTS``).
- ``json``: one array of objects; ``json-wrapped``: ``{"products": [...]}``;
  ``jsonl``: one object per line. Keys: id, name, price, ...
- ``xml``: Google Merchant RSS 2.0 (``g:`` namespace). Google has no caliber
  field, so caliber, grain and rounds live in the title only, as dealers do.
- ``pipe``: a ShareASale datafeed: headerless, ``|``-separated, 51 fields.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from pipeline.synthetic.rows import EXTRA_COLUMNS, DealerRow, Expected, expected_from_counts

FORMATS = ("csv", "tsv", "json", "json-wrapped", "jsonl", "xml", "pipe")
EXTENSIONS = {"csv": "csv", "tsv": "tsv", "json": "json", "json-wrapped": "json",
              "jsonl": "jsonl", "xml": "xml", "pipe": "txt"}  # fmt: skip
SURPLUS = ("EXTRA", "unexpected value")  # what an extra-columns row carries past the header

_Values = Callable[[DealerRow], list[str]]


def _snake(row: DealerRow) -> list[str]:
    return [
        row.sku, row.title, row.price, row.sale_price, row.upc,
        "in stock" if row.in_stock else "out of stock", str(row.quantity), row.brand, row.mpn,
        row.caliber, _grain(row, ""), str(row.rounds), row.url,
    ]  # fmt: skip


def _retail(row: DealerRow) -> list[str]:
    price = row.sale_price or row.price  # this dealer publishes only what it charges
    return [
        row.sku, row.title, price, row.upc, "Yes" if row.in_stock else "No", row.brand,
        row.caliber, _grain(row, " gr"), str(row.rounds), row.url,
    ]  # fmt: skip


def _title_case(row: DealerRow) -> list[str]:
    return [
        row.sku, row.title, row.price, row.sale_price, row.upc,
        "In Stock" if row.in_stock else "Out of Stock", str(row.quantity), row.brand, row.mpn,
        row.caliber, _grain(row, ""), str(row.rounds), row.bullet_type, row.case_type, row.url,
    ]  # fmt: skip


# name -> (header, values of a row in header order)
LAYOUTS: dict[str, tuple[tuple[str, ...], _Values]] = {
    "snake": (
        ("sku", "title", "price", "sale_price", "upc", "availability", "quantity", "brand",
         "mpn", "caliber", "grain", "rounds", "url"),
        _snake,
    ),
    "retail": (
        ("Item Number", "Product Name", "Retail Price", "UPC Code", "In Stock", "Manufacturer",
         "Caliber", "Bullet Weight", "Rounds Per Box", "Product URL"),
        _retail,
    ),
    "title": (
        ("SKU", "Name", "Regular Price", "Sale Price", "UPC", "Stock Status", "Qty", "Brand",
         "MPN", "Caliber", "Grain", "Rounds", "Bullet Type", "Case Type", "Link"),
        _title_case,
    ),
}  # fmt: skip
DEFAULT_LAYOUT = {"csv": "snake", "tsv": "retail", "json": "api", "json-wrapped": "api",
                  "jsonl": "api", "xml": "google-merchant", "pipe": "shareasale"}  # fmt: skip


def write_feed(
    rows: Iterable[DealerRow],
    path: Path | str,
    fmt: str,
    *,
    layout: str | None = None,
    merchant: str = "Synthetic Ammo",
) -> Expected:
    """Write ``rows`` to ``path`` as a ``fmt`` feed, row by row; return what was written.

    ``layout`` picks the CSV/TSV column names (default: "snake" for csv, "retail"
    for tsv); ``merchant`` names the store in XML and pipe feeds.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown feed format {fmt!r}; expected one of {FORMATS}")
    layout = layout or DEFAULT_LAYOUT[fmt]
    if fmt in ("csv", "tsv") and layout not in LAYOUTS:
        raise ValueError(f"unknown column layout {layout!r}; expected one of {tuple(LAYOUTS)}")
    tally: Counter[str | None] = Counter()  # defect kinds, and None for every row
    counted = _counting(rows, tally)
    with open(path, "w", encoding="utf-8", newline="") as out:
        if fmt in ("csv", "tsv"):
            _write_delimited(counted, out, "," if fmt == "csv" else "\t", layout)
        elif fmt == "xml":
            _write_xml(counted, out, merchant)
        elif fmt == "pipe":
            _write_pipe(counted, out, merchant)
        else:
            _write_json(counted, out, fmt)
    tally[None] -= sum(n for kind, n in tally.items() if kind is not None)
    return expected_from_counts(tally, fmt)


def _counting(rows: Iterable[DealerRow], tally: Counter[str | None]) -> Iterator[DealerRow]:
    """Pass ``rows`` through, counting all (under None) and each defect kind."""
    total = 0
    try:
        for total, row in enumerate(rows, 1):  # noqa: B007 (total is read after the loop)
            if row.defect:
                tally[row.defect] += 1
            yield row
    finally:
        tally[None] += total


def _grain(row: DealerRow, unit: str) -> str:
    return f"{row.grain}{unit}" if row.grain is not None else ""


def _write_delimited(rows: Iterable[DealerRow], out: IO[str], delimiter: str, layout: str) -> None:
    """CSV/TSV as ``csv.writer`` writes it (minimal quoting), joined directly when no field
    needs quotes: ``writerow`` costs ~5 us a row here, a join a tenth of that."""
    header, values = LAYOUTS[layout]
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        fields = values(row)
        if row.defect == EXTRA_COLUMNS:
            fields.extend(SURPLUS)
        line = delimiter.join(fields)
        if line.count(delimiter) == len(fields) - 1 and not _needs_quotes(line):
            out.write(line + "\n")
        else:
            writer.writerow(fields)


def _needs_quotes(line: str) -> bool:
    return '"' in line or "\n" in line or "\r" in line  # three scans beat one regex search


def json_object(row: DealerRow) -> dict[str, Any]:
    """A row as a JSON feed object: numbers where the dealer had numbers, text where not."""
    obj: dict[str, Any] = {
        "id": row.sku, "name": row.title, "price": _json_price(row.price),
        "special_price": _json_price(row.sale_price) if row.sale_price else None,
        "gtin": row.upc or None, "stock": row.quantity, "manufacturer": row.brand,
        "mpn": row.mpn, "calibre": row.caliber, "weight": _grain(row, "gr") or None,
        "count": row.rounds, "link": row.url,
    }  # fmt: skip
    if row.defect == EXTRA_COLUMNS:
        obj["extra"] = SURPLUS[1]
    return obj


def _json_price(price: str) -> float | str:
    try:
        return float(price)
    except ValueError:
        return price


def _write_json(rows: Iterable[DealerRow], out: IO[str], fmt: str) -> None:
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(json_object(row)))
            out.write("\n")
        return
    out.write('{"products": [' if fmt == "json-wrapped" else "[")
    separator = "\n"
    for row in rows:
        out.write(separator)
        out.write(json.dumps(json_object(row)))
        separator = ",\n"
    out.write("\n]}\n" if fmt == "json-wrapped" else "\n]\n")


_XML_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
<channel>
<title>{merchant}</title>
<link>https://www.example.com/</link>
<description>{merchant} product feed</description>
"""
_XML_TAIL = "</channel>\n</rss>\n"


def _write_xml(rows: Iterable[DealerRow], out: IO[str], merchant: str) -> None:
    out.write(_XML_HEAD.format(merchant=escape(merchant)))
    for row in rows:
        out.write(_xml_item(row))
    out.write(_XML_TAIL)


def _xml_item(row: DealerRow) -> str:
    parts = [
        "<item>",
        f"<g:id>{escape(row.sku)}</g:id>",
        f"<title>{escape(row.title)}</title>",
        f"<link>{escape(row.url)}</link>",
        f"<g:price>{_xml_price(row.price)}</g:price>",
    ]
    if row.sale_price:
        parts.append(f"<g:sale_price>{_xml_price(row.sale_price)}</g:sale_price>")
    parts.append(
        f"<g:availability>{'in stock' if row.in_stock else 'out of stock'}</g:availability>"
    )
    if row.upc:
        parts.append(f"<g:gtin>{escape(row.upc)}</g:gtin>")
    parts += [
        f"<g:brand>{escape(row.brand)}</g:brand>",
        f"<g:mpn>{escape(row.mpn)}</g:mpn>",
        "<g:condition>new</g:condition>",
        f"<g:product_type>Ammunition &gt; {row.category} Ammunition</g:product_type>",
    ]
    if row.defect == EXTRA_COLUMNS:
        parts.append(f"<extra>{SURPLUS[1]}</extra>")
    parts.append("</item>\n")
    return "".join(parts)


def _xml_price(price: str) -> str:
    """A number becomes "12.99 USD"; text that is not a number stays as it is."""
    try:
        float(price)
    except ValueError:
        return escape(price)
    return f"{price} USD"


PIPE_FIELDS = 51
_LAST_UPDATED = "2025-01-15 06:00:00.000"


def _write_pipe(rows: Iterable[DealerRow], out: IO[str], merchant: str) -> None:
    for row in rows:
        fields = shareasale_fields(row, merchant)
        if row.defect == EXTRA_COLUMNS:
            fields.extend(SURPLUS)
        out.write("|".join(fields))
        out.write("\n")


def shareasale_fields(row: DealerRow, merchant: str, merchant_id: str = "48211") -> list[str]:
    """The 51 ShareASale datafeed fields of a row (ProductID, Name, MerchantID, ...)."""
    image = f"{row.url}.jpg" if row.url else ""
    fields = [
        row.sku, row.title, merchant_id, merchant, row.url, image, image,
        row.sale_price or row.price, row.price if row.sale_price else "",
        "Ammunition", f"{row.category} Ammunition", row.title,
        row.caliber, _grain(row, ""), str(row.rounds), row.bullet_type, row.case_type,
        _LAST_UPDATED, "instock" if row.in_stock else "soldout", row.brand, row.mpn,
        "Ammunition", row.category, row.title, "", row.upc, row.sku,
    ]  # fmt: skip
    fields.extend([""] * (PIPE_FIELDS - len(fields)))
    return fields
