"""The streaming feed parser: formats, encodings, column mapping, limits, bad feeds."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest

from pipeline.errors import EmptyFeed, FeedParseError
from pipeline.feeds import parse
from pipeline.records import ParsedRow, Quarantined


def write_feed(tmp_path: Path, content: str | bytes, name: str = "feed") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def read_all(path: Path, **options: object) -> list[ParsedRow | Quarantined]:
    return list(parse.iter_rows(path, **options))  # type: ignore[arg-type]


def parsed(path: Path, **options: object) -> list[ParsedRow]:
    rows = read_all(path, **options)
    assert all(isinstance(row, ParsedRow) for row in rows), rows
    return rows  # type: ignore[return-value]


# Delimited text


def test_csv_headers_map_to_canonical_fields_and_the_rest_to_extra(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path,
        "Product Name,Regular price,Sale price,In stock?,Stock,UPC Code,Color\n"
        "Federal 9mm 115gr,19.99,17.49,yes,12,029465064525,\n",
    )

    (row,) = parsed(feed)

    assert row.fields == {
        "title": "Federal 9mm 115gr",
        "price": "19.99",
        "sale_price": "17.49",
        "availability": "yes",
        "quantity": "12",
        "upc": "029465064525",
    }
    assert row.extra == {}  # the empty Color value is skipped
    assert row.row_number == 1


def test_unmapped_columns_keep_their_original_header_text(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "sku,price,Weight (lbs)\nA1,5,.5\n")

    (row,) = parsed(feed)

    assert row.extra == {"Weight (lbs)": ".5"}


def test_utf8_bom_does_not_leak_into_the_first_header(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, b"\xef\xbb\xbfID,SKU,Name,Regular price\n7,woo-cap,Cap,18\n")

    (row,) = parsed(feed)

    assert row.fields["sku"] == "woo-cap"
    assert row.extra == {"ID": "7"}


def test_crlf_line_endings_do_not_end_up_in_values_or_raw(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "sku,title,price\r\nA1,Box,5.00\r\nA2,Can,6.00\r\n")

    rows = parsed(feed)

    assert [row.fields["price"] for row in rows] == ["5.00", "6.00"]
    assert rows[1].raw == "A2,Can,6.00"


@pytest.mark.parametrize(
    ("header", "line", "expected_format"),
    [
        ("sku,title,price", "A1,Box,5", "csv"),
        ("sku;title;price", "A1;Box;5", "csv"),
        ("sku\ttitle\tprice", "A1\tBox\t5", "tsv"),
        ("sku|title|price", "A1|Box|5", "pipe"),
    ],
)
def test_delimiter_is_detected_from_the_header_line(
    tmp_path: Path, header: str, line: str, expected_format: str
) -> None:
    feed = write_feed(tmp_path, f"{header}\n{line}\n")

    assert parse.detect_format(feed) == expected_format
    (row,) = parsed(feed)
    assert row.fields == {"sku": "A1", "title": "Box", "price": "5"}


def test_delimiters_inside_quotes_do_not_count_when_sniffing(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, '"sku, code"\t"title, long"\tprice\nA1\tBox\t5\n')

    assert parse.detect_format(feed) == "tsv"


def test_csv_quoting_inside_tsv_keeps_the_embedded_quotes(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path,
        'id\ttitle\tprice\nx1\t"""Lake Erie Loot Crew"" Women\'s Tank Top"\t28.00 USD\t\t\n',
    )

    (row,) = parsed(feed)

    assert row.fields["title"] == '"Lake Erie Loot Crew" Women\'s Tank Top'


def test_trailing_empty_fields_beyond_the_header_are_tolerated(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "sku,price\nA1,5,,,\n")

    (row,) = parsed(feed)

    assert row.fields == {"sku": "A1", "price": "5"}


def test_windows_1252_file_is_decoded_as_windows_1252(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, b"sku,title,price\nA1,Women\x92s \x93Classic\x94 Coat,5\n")

    (row,) = parsed(feed)

    assert row.fields["title"] == "Women’s “Classic” Coat"


def test_a_stray_invalid_byte_makes_the_whole_file_cp1252_without_crashing(
    tmp_path: Path,
) -> None:
    feed = write_feed(tmp_path, "sku,title,price\nA1,Café,5\n".encode() + b"A2,Bad \x81 byte,6\n")

    rows = parsed(feed)

    assert len(rows) == 2
    assert rows[0].fields["title"] == "CafÃ©"  # decided per file: UTF-8 bytes read as cp1252
    assert rows[1].fields["title"] == "Bad \ufffd byte"  # one of cp1252's undefined bytes


def test_a_utf16_file_with_a_bom_is_read_as_utf16(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "sku\ttitle\tprice\r\nA1\tCafé box\t5\r\n".encode("utf-16"))

    (row,) = parsed(feed)

    assert row.fields == {"sku": "A1", "title": "Café box", "price": "5"}


def test_sku_column_outranks_id_and_id_fills_in_when_sku_is_empty(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "ID,SKU,Name,Regular price\n1,woo-a,A,5\n2,,B,6\n")

    first, second = parsed(feed)

    assert (first.fields["sku"], first.extra) == ("woo-a", {"ID": "1"})
    assert (second.fields["sku"], second.extra) == ("2", {})


def test_a_second_column_for_the_same_field_goes_to_extra(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "title,name,price\nFirst,Second,5\n")

    (row,) = parsed(feed)

    assert row.fields["title"] == "First"
    assert row.extra == {"name": "Second"}


def test_blank_lines_are_skipped_and_row_numbers_count_data_rows(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "\n\nsku,price\n\nA1,5\n   \n,\nA2,6\n\n")

    rows = parsed(feed)

    assert [(row.row_number, row.fields["sku"]) for row in rows] == [(1, "A1"), (2, "A2")]


def test_raw_is_the_original_text_of_a_multi_line_record(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, 'sku,title,price\nA1,"two\nlines",5\n')

    (row,) = parsed(feed)

    assert row.raw == 'A1,"two\nlines",5'
    assert row.fields["title"] == "two\nlines"


# Headerless feeds


# 51 fields, as ShareASale writes them: named up to UPC (26th), then unnamed.
SHAREASALE_ROW = (
    "555320614|Ladies Suede Skirt|55155|LeatherCoatsEtc|http://x/p|http://x/thumb.jpg"
    "|http://x/big.jpg|49.50|99.00|Fashion|Womens|Suede &lt;P&gt; skirt||||||2014-11-25"
    "|instock|Acme|9203R|||short|||9203|||||||0" + "|" * 17
)


def test_shareasale_profile_names_the_columns_of_a_headerless_pipe_feed(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, SHAREASALE_ROW + "\n" + SHAREASALE_ROW + "\n")

    rows = parsed(feed, profile="shareasale")

    assert len(rows) == 2
    row = rows[0]
    assert row.fields["sku"] == "555320614"
    assert row.fields["title"] == "Ladies Suede Skirt"
    assert row.fields["price"] == "49.50"  # the selling price, not RetailPrice
    assert row.fields["availability"] == "instock"
    assert row.fields["brand"] == "Acme"
    assert row.fields["mpn"] == "9203R"
    assert row.fields["image_url"] == "http://x/big.jpg"
    assert row.extra["RetailPrice"] == "99.00"
    assert row.extra["Thumbnail"] == "http://x/thumb.jpg"
    assert row.extra["column_27"] == "9203"
    assert row.extra["column_34"] == "0"


def test_explicit_columns_name_a_headerless_feed(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "A1|Box of 9mm|12.50|extra\n")

    (row,) = parsed(feed, columns=["sku", "title", "price", ""])

    assert row.fields == {"sku": "A1", "title": "Box of 9mm", "price": "12.50"}
    assert row.extra == {"column_4": "extra"}


def test_a_headerless_row_wider_than_its_layout_is_quarantined(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, f"{SHAREASALE_ROW}|surplus|fields\n{SHAREASALE_ROW}\n")

    wide, row = read_all(feed, profile="shareasale")

    assert isinstance(wide, Quarantined)
    assert wide.reasons == ("row has 53 fields, header has 51",)
    assert isinstance(row, ParsedRow)


def test_pipe_feed_without_profile_uses_its_first_line_as_header(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "sku|title|price\nA1|Box|5\n")

    (row,) = parsed(feed)

    assert row.fields == {"sku": "A1", "title": "Box", "price": "5"}


def test_headerless_feed_without_a_profile_is_refused_naming_what_it_saw(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, SHAREASALE_ROW + "\n")

    with pytest.raises(FeedParseError, match=r"column profile.*'555320614'"):
        read_all(feed)


def test_unknown_profile_is_a_feed_error(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, SHAREASALE_ROW + "\n")

    with pytest.raises(FeedParseError, match="unknown column profile 'nope'"):
        read_all(feed, profile="nope")


# JSON


def test_json_array_of_objects(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, '[{"sku": "A1", "title": "Box", "price": "5"}, {"sku": "A2"}]')

    rows = parsed(feed)

    assert [row.fields for row in rows] == [
        {"sku": "A1", "title": "Box", "price": "5"},
        {"sku": "A2"},
    ]
    assert json.loads(rows[0].raw) == {"sku": "A1", "title": "Box", "price": "5"}


@pytest.mark.parametrize("key", ["products", "items", "data", "offers", "Records"])
def test_json_wrapper_object_streams_its_product_list(tmp_path: Path, key: str) -> None:
    feed = write_feed(
        tmp_path,
        json.dumps({"meta": {"items": 1, "data": [0]}, key: [{"sku": "A1", "price": "5"}]}),
    )

    (row,) = parsed(feed)

    assert row.fields == {"sku": "A1", "price": "5"}


def test_json_numbers_keep_their_exact_decimal_text(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, '[{"sku": 17, "price": 0.1, "sale_price": 1E+2}]')

    (row,) = parsed(feed)

    assert row.fields == {"sku": "17", "price": "0.1", "sale_price": "100"}


def test_json_nested_values_are_flattened_one_level(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path,
        json.dumps(
            [
                {
                    "sku": "A1",
                    "price": {"value": "9.99", "currency": "USD"},
                    "images": ["http://x/1.jpg", "http://x/2.jpg"],
                    "in_stock": True,
                    "brand": None,
                }
            ]
        ),
    )

    (row,) = parsed(feed)

    assert row.fields == {
        "sku": "A1",
        "price": "9.99 USD",
        "image_url": "http://x/1.jpg, http://x/2.jpg",
        "availability": "true",
    }


def test_json_item_that_is_not_an_object_is_quarantined(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, '[{"sku": "A1", "price": "5"}, "oops", {"sku": "A2"}]')

    first, bad, last = read_all(feed)

    assert isinstance(first, ParsedRow) and isinstance(last, ParsedRow)
    assert bad == Quarantined(2, '"oops"', ("item is a JSON string, not an object",))


def test_json_lines_parse_and_a_bad_line_is_quarantined(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path,
        '{"sku": "A1", "price": 5.10}\n\n{"sku": "A2", price}\n{"sku": "A3", "price": "7"}\n',
    )

    assert parse.detect_format(feed) == "jsonl"
    first, bad, last = read_all(feed)
    assert isinstance(first, ParsedRow) and first.fields == {"sku": "A1", "price": "5.10"}
    assert isinstance(bad, Quarantined)
    assert (bad.row_number, bad.raw) == (2, '{"sku": "A2", price}')
    assert bad.reasons[0].startswith("invalid JSON: Expecting property name")
    assert isinstance(last, ParsedRow) and last.row_number == 3


def test_invalid_json_is_a_feed_error_that_shows_where(tmp_path: Path) -> None:
    text = '[{"sku": "A1", "price": "5"}, {"sku": oops}]'
    feed = write_feed(tmp_path, text)

    with pytest.raises(FeedParseError) as raised:
        read_all(feed)

    assert str(raised.value).startswith(f"invalid JSON at byte {text.index('oops')} (1 items read)")
    assert str(raised.value).endswith("""near '"A1", "price": "5"}, {"sku": o'""")


def test_json_object_without_a_product_list_is_refused(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, '{"meta": {"sku": "A1"},\n "count": 1}')

    with pytest.raises(FeedParseError, match="no list of products"):
        read_all(feed)


# XML


GOOGLE_RSS = """<?xml version="1.0"?>
<rss xmlns:g="http://base.google.com/ns/1.0" version="2.0">
  <channel>
    <title>Store</title>
    <!-- a comment between elements -->
    <item>
      <g:id>TV_1</g:id>
      <title>Plain title loses to g:title</title>
      <g:title><![CDATA[LG 22" TV & stand]]></g:title>
      <g:price>159.00 USD</g:price>
      <g:sale_price>149.00 USD</g:sale_price>
      <g:gtin>71919219405200</g:gtin>
      <g:availability>in stock</g:availability>
      <g:link>http://x/tv</g:link>
      <g:shipping><g:country>US</g:country><g:price>14.95 USD</g:price></g:shipping>
      <g:shipping><g:country>CA</g:country><g:price>20.00 USD</g:price></g:shipping>
      <!-- another comment -->
      <g:condition>used</g:condition>
      <g:product_type>TVs &gt; Flat</g:product_type>
    </item>
    <item><g:id>TV_2</g:id><g:price>99 USD</g:price></item>
  </channel>
</rss>
"""


def test_google_rss_items_map_the_g_namespace(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, GOOGLE_RSS, "feed.xml")

    first, second = parsed(feed)

    assert first.fields == {
        "sku": "TV_1",
        "title": 'LG 22" TV & stand',
        "price": "159.00 USD",
        "sale_price": "149.00 USD",
        "upc": "71919219405200",
        "availability": "in stock",
        "url": "http://x/tv",
        "category": "TVs > Flat",
    }
    assert first.extra == {
        "title": "Plain title loses to g:title",
        "shipping": "US:14.95 USD | CA:20.00 USD",
        "condition": "used",
    }
    assert first.raw.startswith("<item><g:id>TV_1</g:id>")
    assert second.fields == {"sku": "TV_2", "price": "99 USD"}


def test_atom_entries_with_the_g_namespace(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path,
        '<?xml version="1.0"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">'
        "<title>Store</title>"
        "<entry><id>tag:store,2024:1</id><g:id>A1</g:id><title>Box of 9mm</title>"
        '<link href="http://x/a1" rel="alternate"/><summary>Good ammo</summary>'
        "<g:price>12.50 USD</g:price></entry>"
        "</feed>",
    )

    (row,) = parsed(feed)

    assert row.fields == {
        "sku": "A1",
        "title": "Box of 9mm",
        "url": "http://x/a1",
        "description": "Good ammo",
        "price": "12.50 USD",
    }
    assert row.extra == {"id": "tag:store,2024:1"}


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss><channel><item><title>&lol9;</title><g:price>1</g:price></item></channel></rss>
"""


def test_xml_entity_bomb_is_refused_quickly(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, BILLION_LAUGHS)
    started = time.monotonic()

    with pytest.raises(FeedParseError, match="XML with a DTD or entities is refused"):
        read_all(feed)

    assert time.monotonic() - started < 1


def test_xml_external_entity_is_refused(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path,
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        "<rss><channel><item><title>&xxe;</title></item></channel></rss>",
    )

    with pytest.raises(FeedParseError, match="XML with a DTD or entities is refused"):
        read_all(feed)


def test_malformed_xml_is_a_feed_error_with_line_and_column(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "<rss><channel>\n<item><title>x</item></channel></rss>")

    with pytest.raises(FeedParseError, match=r"malformed XML: mismatched tag: line 2, column"):
        read_all(feed)


def test_xml_product_elements_are_rows_too(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path,
        "<products><product><sku>A1</sku><name>Box</name><price>5</price></product>"
        "<product><sku>A2</sku><price>6</price></product></products>",
    )

    rows = parsed(feed)

    assert [row.fields for row in rows] == [
        {"sku": "A1", "title": "Box", "price": "5"},
        {"sku": "A2", "price": "6"},
    ]


# Whole-feed failures


@pytest.mark.parametrize("content", [b"", b"  \n\r\n\t ", b"\xef\xbb\xbf\n"])
def test_an_empty_file_is_an_empty_feed(tmp_path: Path, content: bytes) -> None:
    feed = write_feed(tmp_path, content)

    with pytest.raises(EmptyFeed, match="feed is empty"):
        read_all(feed)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sku,title,price\n\n\n", "feed has a header but no data rows"),
        ("[]", "feed has no data rows"),
        ('{"products": []}', "feed has no data rows"),
        ("<rss><channel><title>x</title></channel></rss>", "feed has no data rows"),
    ],
)
def test_a_feed_without_data_rows_is_an_empty_feed(
    tmp_path: Path, content: str, message: str
) -> None:
    feed = write_feed(tmp_path, content)

    with pytest.raises(EmptyFeed, match=message):
        read_all(feed)


def test_binary_garbage_is_not_text(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)

    with pytest.raises(FeedParseError, match="feed is not text"):
        read_all(feed)


@pytest.mark.parametrize(
    ("declared", "content", "message"),
    [
        ("json", "sku,price\nA1,5\n", "declared as json but its content looks like csv"),
        ("jsonl", "<rss/>", "declared as jsonl but its content looks like xml"),
        ("xml", '[{"sku": "A1"}]', "declared as xml but its content looks like json"),
        ("csv", '[{"sku": "A1"}]', r"declared as csv, content looks like json"),
        ("tsv", "sku,title,price\nA1,B,5\n", r"declared as tsv.*seen: \['sku,title,price'\]"),
    ],
)  # fmt: skip
def test_a_declared_format_the_content_contradicts_is_refused(
    tmp_path: Path, declared: str, content: str, message: str
) -> None:
    feed = write_feed(tmp_path, content)

    with pytest.raises(FeedParseError, match=message):
        read_all(feed, fmt=declared)


def test_declared_json_accepts_json_lines_content(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, '{"sku": "A1", "price": "5"}\n{"sku": "A2", "price": "6"}\n')

    assert len(parsed(feed, fmt="json")) == 2


def test_a_header_without_identity_and_price_columns_is_refused(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, "colour,size,weight\nred,M,2\n")

    with pytest.raises(FeedParseError, match=r"headers seen: \['colour', 'size', 'weight'\]"):
        read_all(feed)


# Limits and streaming


def test_a_row_with_ten_thousand_columns_is_quarantined_and_later_rows_parse(
    tmp_path: Path,
) -> None:
    wide = ",".join(["x"] * 10_000)
    feed = write_feed(tmp_path, f"sku,title,price\nA1,Box,5\n{wide}\nA3,Can,6\n")

    first, wide_row, last = read_all(feed)

    assert isinstance(wide_row, Quarantined)
    assert wide_row.reasons == ("row has 10000 fields, header has 3",)
    assert len(wide_row.raw) <= parse.RAW_LIMIT
    assert isinstance(first, ParsedRow) and isinstance(last, ParsedRow)
    assert (last.row_number, last.fields["sku"]) == (3, "A3")


def test_a_json_item_over_the_column_limit_is_quarantined(tmp_path: Path) -> None:
    wide = {f"key{i}": "x" for i in range(50)}
    feed = write_feed(tmp_path, json.dumps([wide, {"sku": "A1", "price": "5"}]))

    wide_row, row = read_all(feed, max_columns=40)

    assert isinstance(wide_row, Quarantined)
    assert wide_row.reasons == ("row has 50 fields, over the limit of 40",)
    assert isinstance(row, ParsedRow)


def test_a_header_over_the_column_limit_is_refused(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, ",".join(["sku", "price", *["x"] * 48]) + "\nA1,5\n")

    with pytest.raises(FeedParseError, match="header has 50 columns, over the limit of 40"):
        read_all(feed, max_columns=40)


def test_a_field_over_the_default_limit_is_quarantined(tmp_path: Path) -> None:
    huge = "x" * 2_000_000
    feed = write_feed(tmp_path, f"sku,title,price\nA1,{huge},5\nA2,Can,6\n")

    big, row = read_all(feed)

    assert isinstance(big, Quarantined)
    assert big.reasons == ("a field is larger than the 1000000-byte limit",)
    assert isinstance(row, ParsedRow) and row.fields["sku"] == "A2"


def test_the_field_limit_counts_bytes_not_characters(tmp_path: Path) -> None:
    feed = write_feed(tmp_path, f"sku,title,price\nA1,{'é' * 600},5\nA2,{'e' * 600},6\n")

    multibyte, ascii_row = read_all(feed, max_field_bytes=1000)

    assert isinstance(multibyte, Quarantined)
    assert multibyte.reasons == ("field 'title' is larger than the 1000-byte limit",)
    assert isinstance(ascii_row, ParsedRow)


def test_a_large_feed_streams_with_flat_memory(tmp_path: Path) -> None:
    feed = tmp_path / "big.csv"
    with feed.open("w") as out:
        out.write("sku,title,price,upc,availability,description\n")
        for i in range(200_000):
            out.write(f"S{i},Federal 9mm Luger 115gr FMJ #{i},{i % 90 + 10}.99,,in stock,")
            out.write("Reliable range ammunition for practice and training sessions\n")
    assert feed.stat().st_size > 20_000_000

    tracemalloc.start()
    try:
        count = sum(1 for _ in parse.iter_rows(feed))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 200_000
    assert peak < 5_000_000


def write_items(path: Path, fmt: str, count: int) -> None:
    item = {"sku": "S{i}", "title": "Federal 9mm Luger 115gr FMJ #{i}", "price": "10.99"}
    with path.open("w") as out:
        if fmt == "xml":
            out.write('<rss xmlns:g="http://base.google.com/ns/1.0"><channel>\n')
            for i in range(count):
                out.write(f"<item><g:id>S{i}</g:id><title>Federal 9mm #{i}</title>")
                out.write("<g:price>10.99 USD</g:price><description>Ammo</description></item>\n")
            out.write("</channel></rss>\n")
        else:
            out.write('{"products": [\n')
            for i in range(count):
                line = json.dumps({key: value.format(i=i) for key, value in item.items()})
                out.write(("," if i else "") + line + "\n")
            out.write("]}\n")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_xml_and_json_feeds_stream_with_flat_memory(tmp_path: Path, fmt: str) -> None:
    feed = tmp_path / f"big.{fmt}"
    write_items(feed, fmt, 30_000)

    tracemalloc.start()
    try:
        count = sum(1 for _ in parse.iter_rows(feed))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 30_000
    assert peak < 2_000_000 < feed.stat().st_size
