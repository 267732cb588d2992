"""The values that flow between the feed readers and the ingest stage.

A feed is read in three steps, each a plain function over these records:

    fetch   -> FetchResult          (bytes on disk, never all in memory)
    parse   -> ParsedRow | Quarantined    (one per data row, streamed)
    normalize(ParsedRow) -> Offer | Quarantined

A bad row is data (``Quarantined``), never an exception; a bad feed is an
exception from ``pipeline.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

# Canonical field names a parser maps feed columns onto. Anything else a feed
# carries is kept, by its original column name, in ``ParsedRow.extra``.
CANONICAL_FIELDS = (
    "sku",  # the dealer's own code for the item (id, sku, product id, item number)
    "title",
    "description",
    "price",  # the regular / list price
    "sale_price",  # an offer price; wins only when lower than price
    "upc",  # any of upc / gtin / ean / barcode, raw text
    "availability",  # free text: "in stock", "out of stock", "yes", "0", ...
    "quantity",  # units in stock, when the feed says
    "brand",
    "mpn",
    "caliber",
    "grain",
    "rounds",  # rounds per box / package
    "bullet_type",
    "case_type",
    "category",
    "url",
    "image_url",
)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a fetch left behind: a file with the body, or ``not_modified``."""

    not_modified: bool
    path: Path | None
    size: int
    sha256: str | None
    etag: str | None
    last_modified: str | None
    status: int | None  # HTTP status, None for a local file


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """One data row of a feed, columns mapped to canonical names (values as text)."""

    row_number: int  # 1-based data row number (the header is not counted)
    raw: str  # the row as it appeared (a line, a JSON object, an XML item), for quarantine
    fields: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A row that cannot be loaded, with every reason found."""

    row_number: int
    raw: str
    reasons: tuple[str, ...]


@dataclass(slots=True)
class Offer:
    """A normalized, loadable dealer SKU (everything but the identity, which needs the dealer).

    Not frozen, unlike the other records: a frozen dataclass sets each of its
    18 fields through ``object.__setattr__``, about 7 us a row, a tenth of the
    whole per-row budget. Treat it as immutable all the same.
    """

    row_number: int
    sku: str | None  # dealer SKU code, whitespace-trimmed, as given
    gtin: str | None  # validated GTIN-14 (check digit ok, leading zeros kept), else None
    title: str
    brand: str | None
    mpn: str | None
    caliber: str | None  # canonical caliber name, e.g. "9mm Luger", ".223 Remington"
    grain: int | None
    round_count: int | None
    bullet_type: str | None
    case_type: str | None
    price: Decimal  # the effective price: sale price when lower, else the regular price
    regular_price: Decimal | None
    in_stock: bool
    quantity: int | None
    url: str | None
    price_per_round: Decimal | None
    extra: dict[str, str] = field(default_factory=dict)
