"""Stream a feed file into ``ParsedRow`` / ``Quarantined`` values, one at a time.

Formats: delimited text (csv, tsv, pipe), JSON (a top-level array, an object
wrapping a list under a well-known key, or JSON lines) and XML (Google
Merchant RSS 2.0 ``<item>`` and Atom ``<entry>``). Memory stays flat in feed
size: delimited and JSON-lines files are read a line at a time, JSON through
ijson and XML through defusedxml's ``iterparse`` with each item dropped once read.

Decisions, per file:

- Encoding: a first pass decodes the file incrementally as UTF-8 (a leading
  BOM is dropped); if that fails anywhere the whole file is Windows-1252, its
  five undefined bytes replaced. A UTF-8 BOM wins over a stray bad byte, and a
  UTF-16 BOM selects UTF-16. NUL bytes in the first 8 KB mean "not text".
- Format: ``fmt`` is trusted when given, but content that plainly contradicts
  it is a ``FeedParseError`` naming both. JSON and JSON lines are one family:
  the content picks which.
- Columns: header names map to ``records.CANONICAL_FIELDS`` through the
  synonyms below, compared without case, spaces or punctuation. When several
  columns map to one field, the best-ranked synonym with a value in that row
  wins (WooCommerce "SKU" over "ID") and the others stay in ``extra`` under
  their own names, as do unmapped columns. In XML, ``g:`` elements outrank
  plain ones.
- Headerless feeds take their column names from a ``PROFILES`` entry or an
  explicit ``columns`` list, which then acts as the header (an empty name is
  an unnamed column, kept as ``column_N``). ``profile`` and ``columns`` apply
  to delimited feeds only.
- A row with more non-empty fields than the header, or more than
  ``max_columns``, or a field over ``max_field_bytes`` is quarantined.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import defusedxml
import defusedxml.ElementTree as DefusedET
import ijson

from pipeline.errors import EmptyFeed, FeedParseError
from pipeline.records import ParsedRow, Quarantined

FORMATS = ("csv", "tsv", "pipe", "json", "jsonl", "xml")
RAW_LIMIT = 10_000  # characters of a row kept for quarantine
_CHUNK = 64 * 1024
_BINARY_PROBE = 8 * 1024
_GOOGLE_TAG = "{http://base.google.com/ns/1.0}"  # how ElementTree spells the g: namespace
_XML_ROW_TAGS = frozenset({"item", "entry", "product"})
_JSON_LIST_KEYS = ("products", "items", "data", "offers", "entries", "results", "records")
_DELIMITERS = {"tsv": "\t", "pipe": "|", "csv": ","}

# Column layouts of headerless feeds. An empty name is an unnamed column: its
# values are kept in extra as "column_N" (N counted from 1).
#
# ShareASale datafeeds have 51 fields; its documentation names the first 26.
# "Price" is the selling price and "RetailPrice" the list price. Both map to
# the price field, "Price" ranked first, so a ".00" selling price is
# quarantined rather than replaced by the list price.
_SHAREASALE_LAYOUT = (
    "ProductID|Name|MerchantID|Merchant|Link|Thumbnail|BigImage|Price|RetailPrice"
    "|Category|SubCategory|Description|Custom1|Custom2|Custom3|Custom4|Custom5"
    "|LastUpdated|status|manufacturer|partnumber|merchantCategory|merchantSubcategory"
    "|shortDescription|ISBN|UPC"
)
PROFILES: dict[str, tuple[str, ...]] = {
    "shareasale": (*_SHAREASALE_LAYOUT.split("|"), *[""] * 25),
}

# Canonical field -> header synonyms, best first, separated by "|". Headers are
# compared as lowercase letters and digits only: "In stock?" is "instock".
SYNONYMS: dict[str, str] = {
    "sku": "sku | id | product id | item number | item no | product code | offer id",
    "title": "title | name | product name | product title | item name",
    "description": "description | product description | long description | summary",
    "price": "price | regular price | our price | unit price | retail price",
    "sale_price": "sale price | special price | discount price",
    "upc": "upc | gtin | ean | barcode | upc code | gtin13 | gtin12 | gtin14",
    "availability": "availability | in stock | stock status | inventory status | status",
    "quantity": "quantity | qty | stock | stock quantity | inventory | quantity available",
    "brand": "brand | manufacturer | brand name | make",
    "mpn": "mpn | part number | manufacturer part number | mfg part number | mfr part number",
    "caliber": "caliber | calibre | cartridge | gauge",
    "grain": "grain | grains | bullet weight | grain weight",
    "rounds": "rounds | count | num rounds | rounds per box | quantity per box | round count",
    "bullet_type": "bullet type | bullet style | projectile | projectile type",
    "case_type": "case type | casing | case material | casing material",
    "category": "category | product type | categories | google product category",
    "url": "link | url | product url | product link | buy url",
    "image_url": "image link | image url | image | images | big image | thumbnail | picture",
}

_HEADER_KEY = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class _Column:
    name: str  # as the feed spells it; the key in ``extra``
    canonical: str | None
    rank: int  # lower is better among columns mapping to the same canonical field


@dataclass(frozen=True, slots=True)
class _Limits:
    max_columns: int
    max_field_bytes: int


def _header_key(name: str) -> str:
    return _HEADER_KEY.sub("", name.lower())


def _synonym_ranks() -> dict[str, tuple[str, int]]:
    return {
        _header_key(synonym): (canonical, rank)
        for canonical, synonyms in SYNONYMS.items()
        for rank, synonym in enumerate(synonyms.split("|"))
    }


_RANKS = _synonym_ranks()


@lru_cache(maxsize=4096)
def _column(name: str, rank_offset: int = 0) -> _Column:
    """The canonical meaning of a column name (``rank_offset`` demotes it)."""
    canonical, rank = _RANKS.get(_header_key(name), (None, 0))
    return _Column(name, canonical, rank + rank_offset)


def iter_rows(
    path: Path,
    *,
    fmt: str | None = None,
    profile: str | None = None,
    columns: Sequence[str] | None = None,
    max_columns: int = 1000,
    max_field_bytes: int = 1_000_000,
) -> Iterator[ParsedRow | Quarantined]:
    """Every data row of the feed at ``path``, parsed or quarantined, in order.

    Raises, once iteration starts, ``EmptyFeed`` for a feed without data rows
    (after yielding nothing) and ``FeedParseError`` for a feed that cannot be
    read as a whole (possibly after some rows, e.g. JSON or XML broken midway).
    """
    encoding = _sniff_encoding(path)
    seen = _detect(path, encoding)
    kind = _resolve_format(fmt, seen)
    limits = _Limits(max_columns, max_field_bytes)
    empty = "feed has no data rows"
    rows: Iterator[ParsedRow | Quarantined]
    if kind in _DELIMITERS:
        names = _headerless_names(profile, columns)
        context = f"declared as {fmt}, content looks like {seen}" if fmt else f"read as {kind}"
        rows = _iter_delimited(path, encoding, kind, names, limits, context)
        empty = empty if names else "feed has a header but no data rows"
    elif kind == "xml":
        rows = _iter_xml(path, encoding, limits)
    elif kind == "jsonl":
        rows = _iter_json_lines(path, encoding, limits)
    else:
        rows = _iter_json(path, encoding, limits)
    if not (yield from _count(rows)):
        raise EmptyFeed(empty)


def _count(
    rows: Iterable[ParsedRow | Quarantined],
) -> Generator[ParsedRow | Quarantined, None, int]:
    """Pass rows through; the generator's return value is how many there were."""
    count = 0
    for row in rows:
        count += 1
        yield row
    return count


def detect_format(path: Path) -> str:
    """The feed's format judged from its content: one of ``FORMATS``."""
    return _detect(path, _sniff_encoding(path))


# Encoding


def _sniff_encoding(path: Path) -> str:
    """Decide the file's encoding in one streaming pass; refuse empty or binary files."""
    with path.open("rb") as raw:
        head = raw.read(_CHUNK)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if b"\x00" in head[:_BINARY_PROBE]:
            raise FeedParseError("feed is not text: NUL bytes in its first 8 KB")
        has_bom = head.startswith(codecs.BOM_UTF8)
        utf8, has_text = _scan_utf8(itertools.chain([head], iter(lambda: raw.read(_CHUNK), b"")))
    if not has_text:
        raise EmptyFeed("feed is empty")
    return "utf-8-sig" if utf8 or has_bom else "cp1252"


def _scan_utf8(chunks: Iterable[bytes]) -> tuple[bool, bool]:
    """(decodes as UTF-8, has non-whitespace), reading only as far as needed."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    utf8, has_text = True, False
    for chunk in chunks:
        has_text = has_text or bool(chunk.strip().lstrip(codecs.BOM_UTF8).strip())
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
        if has_text and not utf8:
            break
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return utf8, has_text


def _open_text(path: Path, encoding: str) -> IO[str]:
    """The file as text; undecodable bytes become U+FFFD rather than errors."""
    return path.open(encoding=encoding, errors="replace", newline="")


# Format detection


def _detect(path: Path, encoding: str) -> str:
    with _open_text(path, encoding) as text:
        head = text.read(_CHUNK).lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return "xml"
    if head.startswith("["):
        return "json"
    if head.startswith("{"):
        return "jsonl" if _is_json_line(head.partition("\n")[0]) else "json"
    return _delimited_kind(_sniff_delimiter(head.partition("\n")[0]))


def _is_json_line(line: str) -> bool:
    """A complete object on one line that is not a wrapper around a product list."""
    try:
        value = json.loads(line)
    except ValueError:
        return False
    return isinstance(value, dict) and not any(
        isinstance(item, list) and key.lower() in _JSON_LIST_KEYS for key, item in value.items()
    )


def _sniff_delimiter(line: str, candidates: str = "\t|,;") -> str:
    """The candidate that occurs most often outside double quotes (ties: earliest)."""
    counts = dict.fromkeys(candidates, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(candidates, key=lambda c: counts[c])
    return best if counts[best] else ","


def _delimited_kind(delimiter: str) -> str:
    return {"\t": "tsv", "|": "pipe"}.get(delimiter, "csv")


def _resolve_format(declared: str | None, seen: str) -> str:
    if declared is None:
        return seen
    if declared not in FORMATS:
        raise FeedParseError(f"unknown feed format {declared!r}; expected one of {FORMATS}")
    families = {"json": "json", "jsonl": "json", "xml": "xml"}
    wanted, got = families.get(declared, "text"), families.get(seen, "text")
    if wanted in ("json", "xml") and wanted != got:
        raise FeedParseError(f"feed declared as {declared} but its content looks like {seen}")
    return seen if wanted == "json" else declared


# Delimited text


def _headerless_names(profile: str | None, columns: Sequence[str] | None) -> tuple[str, ...]:
    if columns:
        return tuple(columns)
    if profile is None:
        return ()
    if profile not in PROFILES:
        raise FeedParseError(f"unknown column profile {profile!r}; known: {sorted(PROFILES)}")
    return PROFILES[profile]


class _LineTap:
    """Hands lines to ``csv.reader`` and keeps the text of the record being read."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._parts: list[str] = []
        self._size = 0

    def __iter__(self) -> _LineTap:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        if self._size < RAW_LIMIT:
            self._parts.append(line)
            self._size += len(line)
        return line

    def take(self) -> str:
        """The text read since the last call (truncated to ``RAW_LIMIT``)."""
        raw = "".join(self._parts)[:RAW_LIMIT].rstrip("\r\n")
        self._parts.clear()
        self._size = 0
        return raw


def _iter_delimited(
    path: Path,
    encoding: str,
    kind: str,
    names: tuple[str, ...],
    limits: _Limits,
    context: str,
) -> Iterator[ParsedRow | Quarantined]:
    if csv.field_size_limit() <= limits.max_field_bytes:
        csv.field_size_limit(limits.max_field_bytes + 1)  # only ever raised: it is process-wide
    with _open_text(path, encoding) as text:
        first = next((line for line in text if line.strip()), "")
        delimiter = _DELIMITERS[kind] if kind != "csv" else _sniff_delimiter(first, ",;")
        tap = _LineTap(itertools.chain([first], text))
        reader = csv.reader(tap, delimiter=delimiter)
        columns = _columns(names or _read_header(reader, tap), limits, context)
        records = _records(reader, tap)
        yield from _delimited_rows(records, columns, limits)


def _read_header(reader: Iterator[list[str]], tap: _LineTap) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FeedParseError(f"feed header cannot be read: {exc}") from exc
    if not header:
        raise EmptyFeed("feed is empty")
    tap.take()
    header[0] = header[0].lstrip("\ufeff")
    return [name.strip() for name in header]


def _columns(names: Sequence[str], limits: _Limits, context: str) -> list[_Column]:
    if len(names) > limits.max_columns:
        raise FeedParseError(
            f"header has {len(names)} columns, over the limit of {limits.max_columns}"
        )
    columns = [_column(name or f"column_{i + 1}") for i, name in enumerate(names)]
    mapped = {column.canonical for column in columns}
    if not (mapped & {"title", "sku", "upc"} and mapped & {"price", "sale_price"}):
        raise FeedParseError(
            f"feed header ({context}) has no title/sku/upc and price columns"
            f" (a headerless feed needs a column profile); headers seen: {list(names)[:30]}"
        )
    return columns


def _records(reader: Iterator[list[str]], tap: _LineTap) -> Iterator[tuple[list[str], str, str]]:
    """(fields, raw text, error) per non-blank record; a csv error ends only its record."""
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield [], tap.take(), str(exc)
            continue
        raw = tap.take()
        if any(field.strip() for field in fields):
            yield fields, raw, ""


def _delimited_rows(
    records: Iterable[tuple[list[str], str, str]], columns: list[_Column], limits: _Limits
) -> Iterator[ParsedRow | Quarantined]:
    for number, (fields, raw, error) in enumerate(records, start=1):
        if error:
            yield Quarantined(number, raw, (_csv_problem(error, limits),))
        elif _overflows(fields, len(columns)):
            reason = f"row has {len(fields)} fields, header has {len(columns)}"
            yield Quarantined(number, raw, (reason,))
        else:
            pairs = list(zip(columns, fields, strict=False))
            yield _row(number, raw, pairs, len(fields), limits)


def _csv_problem(error: str, limits: _Limits) -> str:
    if "field larger than field limit" in error:
        return f"a field is larger than the {limits.max_field_bytes}-byte limit"
    return f"malformed row: {error}"


def _overflows(fields: list[str], width: int) -> bool:
    """More fields than the header, not counting empty trailing ones."""
    return len(fields) > width and any(field.strip() for field in fields[width:])


def _row(
    number: int, raw: str, pairs: list[tuple[_Column, str]], count: int, limits: _Limits
) -> ParsedRow | Quarantined:
    """A row from its (column, value) pairs, or quarantined when it is too large."""
    problem = _size_problem(pairs, count, limits)
    if problem:
        return Quarantined(number, raw, (problem,))
    fields, extra = _assemble(pairs)
    return ParsedRow(number, raw, fields, extra)


def _size_problem(pairs: list[tuple[_Column, str]], count: int, limits: _Limits) -> str | None:
    """Why a row is too large to load (too many fields, or one too big), else None."""
    if count > limits.max_columns:
        return f"row has {count} fields, over the limit of {limits.max_columns}"
    limit = limits.max_field_bytes
    if sum(len(value) for _, value in pairs) * 4 <= limit:  # UTF-8 is at most 4 bytes a char
        return None
    for column, value in pairs:
        if len(value) > limit or len(value.encode()) > limit:
            return f"field {column.name!r} is larger than the {limit}-byte limit"
    return None


def _assemble(pairs: Iterable[tuple[_Column, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """Canonical fields and extras from (column, value) pairs; see the module docstring."""
    fields: dict[str, str] = {}
    holders: dict[str, _Column] = {}
    extra: dict[str, str] = {}
    for column, value in pairs:
        value = value.strip()
        if not value:
            continue
        canonical = column.canonical
        held = holders.get(canonical) if canonical else None
        if canonical is None or (held is not None and held.rank <= column.rank):
            _add_extra(extra, column.name, value)
            continue
        if held is not None:
            _add_extra(extra, held.name, fields[canonical])
        fields[canonical] = value
        holders[canonical] = column
    return fields, extra


def _add_extra(extra: dict[str, str], name: str, value: str) -> None:
    """Repeated names (XML's repeated elements, duplicate headers) are joined."""
    extra[name] = f"{extra[name]} | {value}" if name in extra else value


# JSON


class _Utf8Stream:
    """A bytes reader over a decoded text file, so ijson sees UTF-8 whatever the
    encoding. It keeps the last chunk read, where a parse error must lie."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self.offset = 0  # bytes handed out before the last chunk
        self.last = b""

    def read(self, size: int = -1) -> bytes:
        self.offset += len(self.last)
        self.last = self._text.read(size).encode("utf-8")
        return self.last


def _iter_json(path: Path, encoding: str, limits: _Limits) -> Iterator[ParsedRow | Quarantined]:
    with _open_text(path, encoding) as text:
        prefix = _json_items_prefix(_Utf8Stream(text))
    count = 0
    with _open_text(path, encoding) as text:
        stream = _Utf8Stream(text)
        try:
            for item in ijson.items(stream, prefix, use_float=False):
                count += 1
                yield _json_row(count, item, _json_raw(item), limits)
        except ijson.JSONError as exc:
            raise _json_error(exc, stream, f"{count} items read") from exc


def _json_items_prefix(stream: _Utf8Stream) -> str:
    """The ijson prefix of the product list: the top-level array or a wrapper's list."""
    events = ijson.parse(stream, use_float=False)
    try:
        first = next(events, None)
        if first == ("", "start_array", None):
            return "item"
        if first != ("", "start_map", None):
            raise FeedParseError("JSON feed is neither an array nor an object")
        for prefix, event, value in events:
            is_list_key = event == "map_key" and str(value).lower() in _JSON_LIST_KEYS
            if prefix == "" and is_list_key and next(events, None) == (value, "start_array", None):
                return f"{value}.item"
    except ijson.JSONError as exc:
        raise _json_error(exc, stream, "no items read") from exc
    raise FeedParseError(f"JSON object has no list of products under any of {_JSON_LIST_KEYS}")


def _json_error(exc: Exception, stream: _Utf8Stream, where: str) -> FeedParseError:
    """Locate a parse error from ijson's message, which quotes the text up to it.

    The message is three lines: the problem, up to 30 characters of context,
    and a caret just after the offending character.
    """
    problem, context, caret = [*str(exc).splitlines(), "", ""][:3]
    near = context.encode()[: caret.find("^")].lstrip() if "^" in caret else b""  # caret: bytes
    found = stream.last.rfind(near) if near else -1
    position = f" at byte {stream.offset + found + len(near) - 1}" if found >= 0 else ""
    shown = f" near {near.decode(errors='replace')!r}" if near else ""
    return FeedParseError(f"invalid JSON{position} ({where}): {problem}{shown}")


def _iter_json_lines(
    path: Path, encoding: str, limits: _Limits
) -> Iterator[ParsedRow | Quarantined]:
    with _open_text(path, encoding) as text:
        lines = (line.strip() for line in text)
        for number, line in enumerate(filter(None, lines), start=1):
            raw = line[:RAW_LIMIT]
            try:
                item = json.loads(line, parse_float=str, parse_int=str, parse_constant=str)
            except ValueError as exc:
                yield Quarantined(number, raw, (f"invalid JSON: {exc}",))
                continue
            yield _json_row(number, item, raw, limits)


def _json_raw(item: object) -> str:
    return json.dumps(item, default=str, ensure_ascii=False)[:RAW_LIMIT]


def _json_row(number: int, item: object, raw: str, limits: _Limits) -> ParsedRow | Quarantined:
    if not isinstance(item, dict):
        return Quarantined(number, raw, (f"item is a JSON {_json_type(item)}, not an object",))
    pairs = [(_column(str(key)), _flatten(value)) for key, value in item.items()]
    return _row(number, raw, pairs, len(pairs), limits)


def _json_type(value: object) -> str:
    names = {list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _flatten(value: Any, depth: int = 0) -> str:
    """A JSON value as text: nested objects and lists one level deep, joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str | int):
        return str(value)
    if depth > 0:
        return ""
    if isinstance(value, dict):
        return " ".join(filter(None, (_flatten(v, depth + 1) for v in value.values())))
    return ", ".join(filter(None, (_flatten(v, depth + 1) for v in value)))


# XML


def _iter_xml(path: Path, encoding: str, limits: _Limits) -> Iterator[ParsedRow | Quarantined]:
    with _open_text(path, encoding) as text:
        events = DefusedET.iterparse(
            text,
            events=("start", "end"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        try:
            yield from _xml_rows(events, limits)
        except ET.ParseError as exc:  # its message ends with the line and column
            raise FeedParseError(f"malformed XML: {exc}") from exc
        except defusedxml.DefusedXmlException as exc:
            raise FeedParseError(f"XML with a DTD or entities is refused: {exc!r}") from exc


def _xml_rows(
    events: Iterator[tuple[str, ET.Element]], limits: _Limits
) -> Iterator[ParsedRow | Quarantined]:
    """One row per outermost item/entry; each is detached once read so memory stays flat."""
    open_elements: list[ET.Element] = []
    row_depth: int | None = None
    count = 0
    for event, element in events:
        if event == "start":
            if row_depth is None and _local_name(element.tag) in _XML_ROW_TAGS:
                row_depth = len(open_elements)
            open_elements.append(element)
            continue
        open_elements.pop()
        if row_depth == len(open_elements):
            count += 1
            yield _xml_row(count, element, limits)
            row_depth = None
            element.clear()
            if open_elements:
                open_elements[-1].remove(element)


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xml_row(number: int, item: ET.Element, limits: _Limits) -> ParsedRow | Quarantined:
    raw = _xml_raw(item)[:RAW_LIMIT]
    pairs = [(_xml_column(child.tag), _xml_text(child)) for child in item]
    return _row(number, raw, pairs, len(pairs), limits)


def _xml_column(tag: str) -> _Column:
    """Google's ``g:`` elements outrank same-meaning plain ones (Atom's ``id`` is a URI)."""
    google = tag.startswith(_GOOGLE_TAG)
    return _column(_local_name(tag), 0 if google else 100)


def _xml_raw(element: ET.Element) -> str:
    """The element as XML text, ``g:`` prefixed: ``ET.tostring`` is three times slower."""
    tag = element.tag
    name = "g:" + tag[len(_GOOGLE_TAG) :] if tag.startswith(_GOOGLE_TAG) else _local_name(tag)
    attributes = "".join(
        f" {_local_name(key)}={quoteattr(value)}" for key, value in element.attrib.items()
    )
    inner = "".join(map(_xml_raw, element)) if len(element) else escape(element.text or "")
    return f"<{name}{attributes}>{inner}</{name}>"


def _xml_text(element: ET.Element) -> str:
    """An element's text; a nested group (g:shipping) as "US:Standard:14.95 USD"."""
    if len(element):
        return ":".join((child.text or "").strip() for child in element)
    return (element.text or "").strip() or element.get("href", "")
