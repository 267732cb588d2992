"""The four hashes the pipeline keys on.

- identity: which dealer SKU a feed row *is*. Dealer + the first present of
  (dealer SKU code, GTIN, normalized title), tagged with its kind so a SKU code
  can never collide with a title. Never price, stock or any other mutable
  field: a price change updates the same row, keeping its id and mapping.
- content: every mutable field in a canonical form; decides updated vs unchanged.
- match: the fields the matcher reads; only a change here asks for a rematch.
- feed: the raw bytes of a feed; equal bytes are skipped before parsing.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from pipeline.records import Offer

DIGEST_SIZE = 16  # 128 bits: collisions are out of reach for any feed size
_SPACE = re.compile(r"\s+")


def _digest(values: tuple[object, ...]) -> bytes:
    """Hash of a tuple of str / int / bool / None values, through its ``repr``.

    ``repr`` of such a tuple is canonical (quoting and escaping included) and
    runs in C, which matters at a few hundred thousand rows a second.
    """
    return hashlib.blake2b(repr(values).encode("utf-8"), digest_size=DIGEST_SIZE).digest()


def _decimal(value: Decimal | None) -> str | None:
    """10.5 and 10.50 are the same price."""
    return None if value is None else format(value.normalize(), "f")


def normalize_key(text: str) -> str:
    """Case- and whitespace-insensitive form of an identity key."""
    return _SPACE.sub(" ", text).strip().casefold()


def identity(dealer_id: int, offer: Offer) -> tuple[str, bytes]:
    """(kind, hash) of the first present of SKU code, GTIN, normalized title."""
    if offer.sku and (key := normalize_key(offer.sku)):
        kind = "sku"
    elif offer.gtin:
        kind, key = "gtin", offer.gtin
    else:
        kind, key = "title", normalize_key(offer.title)
    return kind, _digest((dealer_id, kind, key))


def identity_hash(dealer_id: int, offer: Offer) -> bytes:
    return identity(dealer_id, offer)[1]


def _match_fields(offer: Offer) -> tuple[object, ...]:
    return (
        offer.sku,
        offer.gtin,
        offer.title,
        offer.brand,
        offer.mpn,
        offer.caliber,
        offer.grain,
        offer.round_count,
        offer.bullet_type,
        offer.case_type,
    )


def _state_fields(offer: Offer) -> tuple[object, ...]:
    return (
        _decimal(offer.price),
        _decimal(offer.regular_price),
        offer.in_stock,
        offer.quantity,
        offer.url,
        _decimal(offer.price_per_round),
        tuple(sorted(offer.extra.items())),
    )


def content_hash(offer: Offer) -> bytes:
    """Every field a dealer can change, price and stock included."""
    return _digest(_match_fields(offer) + _state_fields(offer))


def match_hash(offer: Offer) -> bytes:
    """The fields product matching reads: price and stock are deliberately absent."""
    return _digest(_match_fields(offer))


def row_hashes(dealer_id: int, offer: Offer) -> tuple[str, bytes, bytes, bytes]:
    """(identity kind, identity, content, match) for one row, sharing the work between them."""
    kind, identity_digest = identity(dealer_id, offer)
    match_fields = _match_fields(offer)
    return (
        kind,
        identity_digest,
        _digest(match_fields + _state_fields(offer)),
        _digest(match_fields),
    )


def feed_hash(data: bytes) -> bytes:
    """SHA-256 of a feed's raw bytes (the fetcher computes the same while streaming)."""
    return hashlib.sha256(data).digest()
