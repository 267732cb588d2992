"""Turn a parsed feed row into a loadable ``Offer`` or a ``Quarantined`` row.

Every reason a row cannot load is collected before deciding, so a dealer sees
"no price" and "no identity" together. The rules, where a feed leaves room:

- Price: the effective price is the sale price when it is valid and strictly
  lower than the regular price, else the regular price; a valid sale price
  alone also serves. Prices are quantized to cents (ROUND_HALF_UP) and must be
  positive; ``regular_price`` is set only when it differs from the price.
  Sale-price date intervals are ignored.
- Availability: an explicit stock word decides ("in stock (12)", "yes", "1" ->
  True; "out of stock", "sold out", "preorder", "backorder", "0" -> False);
  otherwise a known quantity decides (> 0); a listed offer with no stock signal
  at all is assumed available.
- GTIN: 8, 12, 13 or 14 digits (or 11: a UPC-A that lost its leading zero)
  with a valid GS1 check digit, returned as GTIN-14. An invalid value is kept
  in ``extra["upc_invalid"]``; it is not a reason to quarantine.
- Identity: a row needs a SKU, a valid GTIN or a title. The title shown falls
  back to the MPN, then the SKU, then the GTIN (an MPN alone is not an identity).
- Attributes (caliber, grain, round count, bullet and case type) come from
  their own field when present, else from the title (round count also from
  the description).

Fields an ``Offer`` has no slot for (description, category, image_url, raw
availability) travel in ``extra`` beside the feed's unmapped columns.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from pipeline.feeds import calibers
from pipeline.records import Offer, ParsedRow, Quarantined

CENT = Decimal("0.01")
PER_ROUND = Decimal("0.0001")
TITLE_MAX = 500
# Far above any box of ammunition, and inside the numeric(12, 2) columns that store prices.
PRICE_MAX = Decimal("1000000")
QUANTITY_MAX = 2**31 - 1  # PostgreSQL integer
DESCRIPTION_MAX = 5000
GRAIN_RANGE = range(10, 1001)
ROUNDS_RANGE = range(1, 10001)

_CURRENCY = re.compile(r"(?<![A-Za-z])[A-Za-z]{3}(?![A-Za-z])|US\$|[$€£¥]")
_NUMBER = re.compile(r"-?(?:\d[\d.,]*|[.,]\d+)")
_PLAIN_PRICE = re.compile(r"\s*\$?(\d+(?:\.\d*)?|\.\d+)(?:\s*USD)?\s*")  # the common case, fast
_TAG = re.compile(r"<[^<>]{0,500}>")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_BARE_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
# Phrases are matched in lowercased text. A number starts with a digit that
# follows no digit or dot; that look-behind sits after the first \d so the
# regex engine can skip ahead to digits (see calibers.alternation).
_NUMBER_START = r"\d(?<![\d.]\d)"
_GRAIN = (re.compile(rf"({_NUMBER_START}\d{{0,3}}(?:\.\d)?)\s*-?\s*(?:grains?|grn|gr)(?![a-z])"),)
_ROUNDS = (
    re.compile(
        rf"({_NUMBER_START}[\d,]*)\s*-?\s*"
        r"(?:(?:rounds?|rds?|ct|count|shells|cartridges)|(?:/|per\s+)(?:box|bx|case|pack))(?![a-z])"
    ),
    re.compile(r"\b(?:box|case|pack|carton|tin|can)\s+of\s+(\d[\d,]*)"),
)

# Availability words, compared with case, spaces and punctuation removed.
_IN_STOCK_WORDS = frozenset({"yes", "true", "y"})
_OUT_OF_STOCK_WORDS = frozenset({"no", "false", "n", "none"})
_IN_STOCK_PHRASES = ("instock", "available", "limitedstock", "lowstock")
_OUT_OF_STOCK_PHRASES = (
    *("outofstock", "soldout", "unavailable", "notavailable", "notinstock", "nostock"),
    *("preorder", "backorder", "discontinued"),
)

# Short code -> the words that name it in a field or a title, separated by "|".
_BULLET_TYPES = {
    "FMJ": "fmj | full metal jacket",
    "JHP": "jhp | jacketed hollow point",
    "HP": "hp | hollow point",
    "JSP": "jsp | jacketed soft point",
    "SP": "sp | soft point",
    "BTHP": "bthp | boat tail hollow point",
    "OTM": "otm | open tip match",
    "TMJ": "tmj | total metal jacket",
    "PT": "ballistic tip | polymer tip",
    "LRN": "lrn | lead round nose",
    "CPRN": "cprn | copper plated round nose",
    "SWC": "swc | semi wadcutter",
    "WC": "wadcutter",
    "FRANGIBLE": "frangible",
    "SLUG": "slug | slugs",
    "BUCKSHOT": "buckshot | buck",
    "BIRDSHOT": "birdshot | bird shot | shot",  # "#8 Shot"; "buck shot" is buckshot
}
_CASE_TYPES = {
    "Brass": "brass",
    "Steel": "steel",
    "Aluminum": "aluminum | aluminium",
    "Nickel": "nickel | nickel plated",
    "Plastic": "plastic",
}


def _by_word(table: Mapping[str, str]) -> dict[str, str]:
    return {word.strip(): code for code, words in table.items() for word in words.split("|")}


def _keyword_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """Whole words in lowercased text; "full metal jacket" also as "full-metal-jacket"."""
    return calibers.alternation(r"[\s-]+".join(word.split()) + r"(?![a-z0-9])" for word in words)


_BULLET_CODES = _by_word(_BULLET_TYPES)
_CASE_CODES = _by_word(_CASE_TYPES)
_BULLET_MATCHER = _keyword_pattern(_BULLET_CODES)
_CASE_MATCHER = _keyword_pattern(_CASE_CODES)


def normalize(row: ParsedRow) -> Offer | Quarantined:
    """One parsed row as an ``Offer``, or ``Quarantined`` with every reason found."""
    fields = row.fields
    reasons: list[str] = []
    price, regular_price = _effective_price(fields.get("price"), fields.get("sale_price"), reasons)
    extra = dict(row.extra)
    gtin = _gtin_or_note(fields.get("upc"), extra)
    sku = _clean_code(fields.get("sku"))
    title = clean_text(fields.get("title"), TITLE_MAX)
    if not (sku or gtin or title):
        reasons.append("no identity: no sku, gtin or title")
    if price is None or reasons:
        return Quarantined(row.row_number, row.raw, tuple(reasons))
    return _offer(row, price, regular_price, sku, gtin, title, extra)


def _offer(
    row: ParsedRow,
    price: Decimal,
    regular_price: Decimal | None,
    sku: str | None,
    gtin: str | None,
    title: str | None,
    extra: dict[str, str],
) -> Offer:
    fields = row.fields
    mpn = _clean_code(fields.get("mpn"))
    description = clean_text(fields.get("description"), DESCRIPTION_MAX)
    shown_title = title or mpn or sku or gtin or ""
    round_count = extract_round_count(fields.get("rounds"), shown_title, description)
    quantity = parse_quantity(fields.get("quantity"))
    _carry(extra, fields, description)
    return Offer(
        row_number=row.row_number,
        sku=sku,
        gtin=gtin,
        title=shown_title,
        brand=clean_text(fields.get("brand"), TITLE_MAX),
        mpn=mpn,
        caliber=_caliber(fields.get("caliber"), shown_title, extra),
        grain=extract_grain(fields.get("grain"), shown_title),
        round_count=round_count,
        bullet_type=_bullet_type(fields.get("bullet_type"), shown_title),
        case_type=_case_type(fields.get("case_type"), shown_title),
        price=price,
        regular_price=regular_price,
        in_stock=parse_availability(fields.get("availability"), quantity),
        quantity=quantity,
        url=_clean_code(fields.get("url")),
        price_per_round=_per_round(price, round_count),
        extra=extra,
    )


def _per_round(price: Decimal, round_count: int | None) -> Decimal | None:
    return (price / round_count).quantize(PER_ROUND, ROUND_HALF_UP) if round_count else None


def _carry(extra: dict[str, str], fields: Mapping[str, str], description: str | None) -> None:
    """Keep the canonical fields an Offer has no slot for."""
    if description:
        extra["description"] = description
    for name in ("category", "image_url", "availability"):
        value = fields.get(name)
        if value:
            extra[name] = value


# Prices


def parse_price(text: str | None) -> Decimal | None:
    """The amount in a price text ("$1,299.99", "159.00 USD", "1.299,99 EUR"), or None."""
    if not text:
        return None
    plain = _PLAIN_PRICE.fullmatch(text)
    if plain:
        return Decimal(plain.group(1))
    stripped = _CURRENCY.sub("", text).strip()
    match = _NUMBER.fullmatch(stripped)
    if match is None:
        return None
    try:
        return Decimal(_plain_number(match.group()))
    except InvalidOperation:
        return None


def _plain_number(number: str) -> str:
    """Drop thousands separators; the last of ',' or '.' is the decimal point."""
    dot, comma = number.rfind("."), number.rfind(",")
    if comma > dot:
        groups = number.split(",")
        if dot < 0 and all(len(g) == 3 for g in groups[1:]) and groups[0].lstrip("-"):
            return number.replace(",", "")  # "1,299" is a thousand, "12,50" is not
        return number.replace(".", "").replace(",", ".")
    if number.count(".") > 1:
        return number.replace(",", "").replace(".", "")  # "1.299.000"
    return number.replace(",", "")


def _effective_price(
    price_text: str | None, sale_text: str | None, reasons: list[str]
) -> tuple[Decimal | None, Decimal | None]:
    regular, regular_problem = _valid_price(price_text, "price")
    sale, sale_problem = _valid_price(sale_text, "sale price")
    if regular is not None and sale is not None and sale < regular:
        return sale, regular
    if regular is not None or sale is not None:
        return regular or sale, None
    reasons.append(regular_problem or sale_problem or "no price")
    return None, None


def _valid_price(text: str | None, label: str) -> tuple[Decimal | None, str | None]:
    """A positive price in cents, or the reason the text is not one (None if blank)."""
    if not text or not text.strip():
        return None, None
    value = parse_price(text)
    if value is None:
        return None, f"{label} {text.strip()[:40]!r} is not a number"
    if value < 0:
        return None, f"{label} {value} is negative"
    if value >= PRICE_MAX:
        return None, f"{label} {text.strip()[:40]!r} is implausibly large"
    cents = value.quantize(CENT, ROUND_HALF_UP)
    if not cents:
        return None, f"{label} 0 is not a valid offer"
    return cents, None


# Identity


def normalize_gtin(text: str | None) -> str | None:
    """A GTIN-8/12/13/14 with a valid check digit, as 14 digits; else None.

    Eleven digits are taken as a UPC-A whose leading zero a spreadsheet dropped
    (the check digit still has to hold).
    """
    if not text:
        return None
    digits = text.strip().replace(" ", "").replace("-", "")
    if len(digits) not in (8, 11, 12, 13, 14) or not digits.isascii() or not digits.isdigit():
        return None
    gtin = digits.zfill(14)
    if gtin == "0" * 14 or _check_digit(gtin[:13]) != int(gtin[13]):
        return None
    return gtin


def _check_digit(body: str) -> int:
    """GS1 mod-10 over a 13-digit body: weight 3 on even indexes (the rightmost), 1 on odd."""
    codes = body.encode("ascii")  # summing byte values is much faster than int() per digit
    total = 3 * (sum(codes[0::2]) - 7 * 48) + sum(codes[1::2]) - 6 * 48
    return -total % 10


def _gtin_or_note(text: str | None, extra: dict[str, str]) -> str | None:
    gtin = normalize_gtin(text)
    if gtin is None and text and text.strip():
        extra["upc_invalid"] = text.strip()
    return gtin


def _clean_code(text: str | None) -> str | None:
    return (text.strip() or None) if text else None


def clean_text(text: str | None, limit: int) -> str | None:
    """Unescape HTML entities, drop tags, collapse whitespace, trim to ``limit`` chars."""
    if not text:
        return None
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    return " ".join(text.split())[:limit] or None


# Stock


def parse_availability(text: str | None, quantity: int | None) -> bool:
    """Whether the offer is in stock; see the module docstring for the rules."""
    stated = _stock_word(text) if text else None
    if stated is not None:
        return stated
    return quantity > 0 if quantity is not None else True


@lru_cache(maxsize=1024)
def _stock_word(text: str) -> bool | None:
    """What an availability text says, or None when it says nothing we know."""
    word = _NON_ALNUM.sub("", text.lower())
    if word in _IN_STOCK_WORDS:
        return True
    if word in _OUT_OF_STOCK_WORDS or any(p in word for p in _OUT_OF_STOCK_PHRASES):
        return False
    if any(p in word for p in _IN_STOCK_PHRASES):
        return True
    return int(word) > 0 if word.isdigit() else None


def parse_quantity(text: str | None) -> int | None:
    """Units in stock ("12", "12.0", " 1,200 "); None when absent, fractional or negative."""
    if not text:
        return None
    if text.isdigit():
        return int(text) if len(text) < 10 or int(text) <= QUANTITY_MAX else None
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        return None
    return int(value) if value <= QUANTITY_MAX else None


# Ammunition attributes


def normalize_caliber(text: str | None) -> str | None:
    """The canonical caliber for a caliber field or a title, or None."""
    return calibers.canonical(text)


def _caliber(field: str | None, title: str, extra: dict[str, str]) -> str | None:
    if field and field.strip():
        found = calibers.canonical(field)
        if found:
            return found
        extra["caliber_unrecognized"] = field.strip()
    return calibers.find(title)


def extract_round_count(*texts: str | None) -> int | None:
    """Rounds per box from the first text that states it: a bare number (the rounds
    field) or a phrase such as "Box of 20", "50-round", "20 rds", "20/box", "20 ct"."""
    return _first_number(texts, _ROUNDS, ROUNDS_RANGE)


def extract_grain(*texts: str | None) -> int | None:
    """Bullet weight from the first text that states it: a bare number (the grain
    field) or "115gr", "115 grain", "115 gr."."""
    return _first_number(texts, _GRAIN, GRAIN_RANGE)


def _first_number(
    texts: tuple[str | None, ...], phrases: tuple[re.Pattern[str], ...], bounds: range
) -> int | None:
    for text in texts:
        number = _number_in(text, phrases) if text else None
        if number:
            return _bounded(number, bounds)
    return None


def _number_in(text: str, phrases: tuple[re.Pattern[str], ...]) -> str | None:
    bare = _BARE_NUMBER.fullmatch(text.strip())
    if bare:
        return bare.group()
    lowered = text.lower()
    for phrase in phrases:
        match = phrase.search(lowered)
        if match:
            return match.group(1)
    return None


def _bounded(number: str, bounds: range) -> int | None:
    if number.isdigit():
        value = int(number)
    else:
        value = int(Decimal(number.replace(",", "")).to_integral_value(ROUND_HALF_UP))
    return value if value in bounds else None


def _bullet_type(field: str | None, title: str) -> str | None:
    return _keyword(field, title, _BULLET_MATCHER, _BULLET_CODES, str.upper)


def _case_type(field: str | None, title: str) -> str | None:
    return _keyword(field, title, _CASE_MATCHER, _CASE_CODES, str.capitalize)


def _keyword(
    field: str | None,
    title: str,
    matcher: re.Pattern[str],
    codes: Mapping[str, str],
    style: Callable[[str], str],
) -> str | None:
    """The code for a keyword in the field, else the field itself, else one in the title."""
    field = clean_text(field, 40)
    match = matcher.search((field or title).lower())
    if match:
        return codes[" ".join(match.group().replace("-", " ").split())]
    return style(field) if field else None
