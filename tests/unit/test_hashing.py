from decimal import Decimal

from pipeline import hashing
from tests.factories import offer


def test_price_or_stock_change_keeps_identity() -> None:
    before = offer(price=Decimal("15.99"), in_stock=True, quantity=3)
    after = offer(price=Decimal("12.49"), in_stock=False, quantity=0)
    assert hashing.identity(7, before) == hashing.identity(7, after)
    assert hashing.content_hash(before) != hashing.content_hash(after)


def test_whitespace_and_case_do_not_change_identity() -> None:
    assert hashing.identity(7, offer(sku="ab-12 x")) == hashing.identity(
        7, offer(sku="  AB-12   X ")
    )
    by_title = offer(sku=None, title="Federal  9MM Luger\t115gr")
    assert hashing.identity(7, by_title) == hashing.identity(
        7, offer(sku=None, title="federal 9mm luger 115GR")
    )


def test_identity_takes_first_present_of_sku_gtin_title() -> None:
    assert hashing.identity(1, offer(sku="X1", gtin="00012345678905"))[0] == "sku"
    assert hashing.identity(1, offer(sku=None, gtin="00012345678905"))[0] == "gtin"
    assert hashing.identity(1, offer(sku="  ", gtin=None))[0] == "title"


def test_identity_is_kind_tagged_and_per_dealer() -> None:
    as_sku = offer(sku="00012345678905", gtin=None)
    as_gtin = offer(sku=None, gtin="00012345678905")
    assert hashing.identity_hash(1, as_sku) != hashing.identity_hash(1, as_gtin)
    assert hashing.identity_hash(1, as_sku) != hashing.identity_hash(2, as_sku)


def test_content_hash_sees_every_mutable_field() -> None:
    base = offer()
    changes = {
        "title": "Other title",
        "brand": "CCI",
        "price": Decimal("1.00"),
        "regular_price": Decimal("20.00"),
        "in_stock": False,
        "quantity": 5,
        "url": "https://example.test/x",
        "round_count": 20,
        "extra": {"color": "red"},
    }
    for field, value in changes.items():
        assert hashing.content_hash(base) != hashing.content_hash(offer(**{field: value})), field


def test_equal_prices_with_different_scale_hash_alike() -> None:
    assert hashing.content_hash(offer(price=Decimal("10.5"))) == hashing.content_hash(
        offer(price=Decimal("10.50"))
    )


def test_match_hash_ignores_price_and_stock_but_not_attributes() -> None:
    base = offer()
    assert hashing.match_hash(base) == hashing.match_hash(
        offer(price=Decimal("99.99"), in_stock=False, quantity=0, url="https://x.test")
    )
    assert hashing.match_hash(base) != hashing.match_hash(offer(grain=124))


def test_feed_hash_is_sha256_of_bytes() -> None:
    import hashlib

    assert hashing.feed_hash(b"abc") == hashlib.sha256(b"abc").digest()
