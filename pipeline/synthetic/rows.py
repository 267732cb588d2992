"""Dealer rows: the catalogue as one dealer publishes it, warts and all.

Each dealer (picked by index) has its own house style: how it builds SKU codes,
how it words titles and spells calibers, and its markup over the market price.
A dealer carries a random subset of the catalogue; asked for more SKUs than
there are products, it adds case packs of products it already carries.

Malformed rows are added on purpose, each tagged with its ``defect`` kind, and
``summarize`` counts what a correct loader must load, quarantine and dedupe.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from pipeline.synthetic import products as catalog
from pipeline.synthetic.products import Product

# Defect kinds. Every malformed row carries exactly one.
PRICE_TEXT = "price_text"  # price "abc"
PRICE_NEGATIVE = "price_negative"  # price "-5"
PRICE_EMPTY = "price_empty"  # price ""
NO_IDENTITY = "no_identity"  # no SKU, no UPC, empty title
DUPLICATE_SKU = "duplicate_sku"  # an earlier row's SKU again, with a different price
EXTRA_COLUMNS = "extra_columns"  # more values than the header has columns
DEFECTS = (PRICE_TEXT, PRICE_NEGATIVE, PRICE_EMPTY, NO_IDENTITY, DUPLICATE_SKU, EXTRA_COLUMNS)
# Formats whose rows are keyed, where an unknown extra field is harmless, not malformed.
KEYED_FORMATS = frozenset({"json", "json-wrapped", "jsonl", "xml"})


@dataclass(slots=True)
class DealerRow:
    """One row of a dealer's feed, values as the dealer writes them.

    Treat it as immutable (change a copy with ``dataclasses.replace``). It is not
    declared frozen because a frozen dataclass costs ~3 us more to build here,
    a sixth of the per-row budget of a 100,000-row feed.
    """

    sku: str  # the dealer's own code; "" only on a no-identity row
    title: str
    price: str  # regular price, e.g. "18.99"; malformed rows hold "abc", "-5" or ""
    sale_price: str  # "" when not on sale
    upc: str  # as written: 12 digits, leading zero dropped, dashed, or "" when missing
    in_stock: bool
    quantity: int  # 0 when out of stock
    brand: str
    mpn: str
    caliber: str  # in the dealer's spelling ("9mm Luger", "9MM", "9x19")
    grain: int | None
    rounds: int
    bullet_type: str
    case_type: str
    category: str
    url: str
    product_gtin: str  # ground truth: the product this row sells (never written to a feed)
    dealer_index: int
    defect: str | None = None  # None on a good row, else one of DEFECTS


@dataclass(frozen=True, slots=True)
class Expected:
    """What a correct loader must make of a feed.

    ``rows == valid + duplicates + sum(bad.values())``. ``valid`` rows have
    distinct SKU codes; ``duplicates`` repeat an earlier valid row's SKU with a
    different price (the loader keeps one row per SKU); ``bad`` rows must be
    quarantined, counted by defect kind.
    """

    rows: int
    valid: int
    duplicates: int
    bad: dict[str, int] = field(default_factory=dict, hash=False)

    @property
    def quarantined(self) -> int:
        return sum(self.bad.values())


class DealerFeed(NamedTuple):
    rows: list[DealerRow]
    expected: Expected


@dataclass(frozen=True, slots=True)
class DealerStyle:
    """How one dealer writes its feed."""

    name: str
    prefix: str  # SKU prefix, e.g. "MGA"
    domain: str
    titles: str  # "retail", "caps" or "verbose"
    skus: str  # "code", "number" or "mpn"


STYLES = (
    DealerStyle("Mountain Gun & Ammo", "MGA", "mountaingunammo.example", "retail", "code"),
    DealerStyle("Bulk Round Depot", "BRD", "bulkrounddepot.example", "caps", "number"),
    DealerStyle("Lone Pine Outfitters", "LPO", "lonepineoutfitters.example", "verbose", "mpn"),
    DealerStyle("Coastal Shooting Supply", "CSS", "coastalshooting.example", "retail", "number"),
    DealerStyle("Prairie Ammo Co", "PAC", "prairieammo.example", "caps", "code"),
)


def dealer_style(dealer_index: int) -> DealerStyle:
    """The house style of dealer ``dealer_index``; indexes past the table reuse it, renamed."""
    style = STYLES[dealer_index % len(STYLES)]
    lap = dealer_index // len(STYLES)
    if lap == 0:
        return style
    return replace(
        style, name=f"{style.name} {lap + 1}", prefix=f"{style.prefix}{lap + 1}",
        domain=f"{lap + 1}.{style.domain}",
    )  # fmt: skip


def dealer_markup(dealer_index: int, seed: int) -> float:
    """The dealer's price level over the market, between 0.9 and 1.2."""
    return random.Random(f"markup:{seed}:{dealer_index}").uniform(0.9, 1.2)


def dealer_rows(
    dealer_index: int,
    products: Sequence[Product],
    n_skus: int,
    seed: int,
    *,
    malformed_fraction: float = 0.01,
) -> DealerFeed:
    """Dealer ``dealer_index``'s feed: ``n_skus`` valid rows plus malformed ones, and the counts."""
    stream = iter_dealer_rows(
        dealer_index, products, n_skus, seed, malformed_fraction=malformed_fraction
    )
    rows = list(stream)
    return DealerFeed(rows, summarize(rows))


def iter_dealer_rows(
    dealer_index: int,
    products: Sequence[Product],
    n_skus: int,
    seed: int,
    *,
    malformed_fraction: float = 0.01,
) -> Iterator[DealerRow]:
    """Stream the rows of ``dealer_rows`` (same rows, same order)."""
    rng = random.Random(f"dealer:{seed}:{dealer_index}")
    maker = RowMaker(dealer_index, seed, rng)
    picks = _subset(rng, products, n_skus)
    return _with_defects(rng, maker, picks, n_skus, malformed_fraction)


def iter_tier_rows(
    n_skus: int, seed: int, *, dealer_index: int = 0, malformed_fraction: float = 0.0
) -> Iterator[DealerRow]:
    """A dealer carrying ``n_skus`` products of a streamed catalogue, one row each, lazily."""
    rng = random.Random(f"tier:{seed}:{dealer_index}")
    maker = RowMaker(dealer_index, seed, rng)
    picks = ((p, False) for p in catalog.iter_catalogue(n_skus, seed))
    return _with_defects(rng, maker, picks, n_skus, malformed_fraction)


def summarize(rows: Iterable[DealerRow], fmt: str = "csv") -> Expected:
    """Count ``rows`` the way a loader of a ``fmt`` feed must treat them."""
    counts = Counter(row.defect for row in rows)
    return expected_from_counts(counts, fmt)


def expected_from_counts(counts: Counter[str | None], fmt: str) -> Expected:
    """``Expected`` from a tally of ``DealerRow.defect`` values (None = good row)."""
    valid = counts[None]
    if fmt in KEYED_FORMATS:
        valid += counts[EXTRA_COLUMNS]
    bad = {kind: counts[kind] for kind in DEFECTS if kind != DUPLICATE_SKU and counts[kind]}
    if fmt in KEYED_FORMATS:
        bad.pop(EXTRA_COLUMNS, None)
    return Expected(sum(counts.values()), valid, counts[DUPLICATE_SKU], bad)


def _subset(
    rng: random.Random, products: Sequence[Product], n_skus: int
) -> Iterator[tuple[Product, bool]]:
    """(product, is_case_pack) pairs: a random subset, then case packs when n exceeds it."""
    if not products:
        return
    for i in rng.sample(range(len(products)), min(n_skus, len(products))):
        yield products[i], False
    for _ in range(n_skus - len(products)):
        yield products[rng.randrange(len(products))], True


def _with_defects(
    rng: random.Random,
    maker: RowMaker,
    picks: Iterable[tuple[Product, bool]],
    n_skus: int,
    fraction: float,
) -> Iterator[DealerRow]:
    """The good rows, with ``round(n_skus * fraction)`` malformed rows spread among them.

    Malformed row j follows good row ``floor((j + u) * n / n_bad)``, u uniform in
    [0, 1): exactly n_bad of them, evenly spread, kinds dealt in turn.
    """
    n_bad = round(n_skus * fraction)
    kinds = list(DEFECTS)
    rng.shuffle(kinds)
    slots = deque(int((j + rng.random()) * n_skus / n_bad) for j in range(n_bad))
    recent: deque[DealerRow] = deque(maxlen=64)  # duplicates copy one of these
    dealt = 0
    for i, (product, pack) in enumerate(picks):
        row = maker.row(product, pack)
        recent.append(row)
        yield row
        while slots and slots[0] <= i:
            slots.popleft()
            yield maker.defective(kinds[dealt % len(kinds)], product, rng.choice(recent))
            dealt += 1


class RowMaker:
    """Builds a dealer's rows in its house style; SKU codes never repeat within the maker.

    The style's choices (title wording, caliber spelling, SKU scheme) are bound
    once here, so building a row is straight-line code: this runs per row.
    """

    def __init__(
        self, dealer_index: int, seed: int, rng: random.Random, *, first_number: int = 0
    ) -> None:
        self.dealer_index = dealer_index
        self.style = style = dealer_style(dealer_index)
        self.markup = dealer_markup(dealer_index, seed)
        self.rng = rng
        self._title = _TITLES[style.titles]
        self._spelling = {"retail": "name", "caps": "short", "verbose": "alias"}[style.titles]
        self._sku = {"code": self._code_sku, "number": self._number_sku, "mpn": self._mpn_sku}[
            style.skus
        ]
        self._url = f"https://www.{style.domain}/products/"
        self._code_uses: dict[str, int] = {}  # bounded: one entry per caliber/load/rounds
        self._numbers = first_number
        self._packs = first_number

    def row(self, product: Product, pack: bool = False) -> DealerRow:
        """A good row for ``product``, or for a case pack of it (no UPC on case packs)."""
        rng = self.rng
        caliber = catalog.caliber_named(product.caliber)
        rounds = _case_pack(rng, product.rounds) if pack else product.rounds
        cents = self._cents(product, rounds)
        in_stock = rng.random() < 0.85
        sku = self._sku(product, caliber, rounds, pack)
        return DealerRow(  # positional: keyword arguments cost a tenth of the row budget
            sku,  # sku
            self._title(product, caliber, rounds),  # title
            money(cents),  # price
            _sale(rng, cents),  # sale_price
            "" if pack else _upc(rng, product.gtin),  # upc
            in_stock,  # in_stock
            1 + int(rng.random() * 400) if in_stock else 0,  # quantity
            product.brand,  # brand
            product.mpn,  # mpn
            getattr(caliber, self._spelling),  # caliber
            product.grain,  # grain
            rounds,  # rounds
            product.bullet_type,  # bullet_type
            product.case_type,  # case_type
            product.category,  # category
            self._url + sku.lower(),  # url
            product.gtin,  # product_gtin
            self.dealer_index,  # dealer_index
        )

    def defective(self, kind: str, product: Product, earlier: DealerRow) -> DealerRow:
        """A malformed row of ``kind``; a duplicate repeats ``earlier``'s SKU at another price."""
        if kind == DUPLICATE_SKU:
            cents = cents_of(earlier.price) + self.rng.randint(1, 500)
            return replace(earlier, price=money(cents), sale_price="", defect=kind)
        row = replace(self.row(product, pack=True), defect=kind)
        if kind == NO_IDENTITY:
            return replace(row, sku="", upc="", title="", url="")
        bad_price = {PRICE_TEXT: "abc", PRICE_NEGATIVE: "-5", PRICE_EMPTY: ""}
        if kind in bad_price:
            return replace(row, price=bad_price[kind], sale_price="")
        return row  # EXTRA_COLUMNS: the writer adds the surplus values

    def fresh_row(self, product: Product, pack: bool, taken: set[str]) -> DealerRow:
        """A good row whose SKU is not in ``taken`` (which it joins): for rows added later."""
        row = self.row(product, pack)
        while row.sku in taken:
            row = self.row(product, pack=True)
        taken.add(row.sku)
        return row

    def _cents(self, product: Product, rounds: int) -> int:
        """Market price x dealer markup x 3% noise; case packs 5% cheaper per round."""
        per_round = float(product.price_per_round) * (0.95 if rounds > product.rounds else 1.0)
        noise = 0.97 + 0.06 * self.rng.random()
        return max(1, round(per_round * rounds * self.markup * noise * 100))

    def _number_sku(
        self, product: Product, caliber: catalog.Caliber, rounds: int, pack: bool
    ) -> str:
        """A running item number, like "BRD100007"."""
        self._numbers += 1
        return f"{self.style.prefix}{100000 + self._numbers * 7}"

    def _mpn_sku(self, product: Product, caliber: catalog.Caliber, rounds: int, pack: bool) -> str:
        """Brand and part number, "LPO-FED-AE9115AB"; case packs "LPO-FED-AE9115AB-C500-3"."""
        code = f"{self.style.prefix}-{catalog.BRANDS[product.brand].abbreviation}-{product.mpn}"
        if not pack:
            return code
        self._packs += 1
        return f"{code}-C{rounds}-{self._packs}"

    def _code_sku(self, product: Product, caliber: catalog.Caliber, rounds: int, pack: bool) -> str:
        """Caliber, grain (or shot code), rounds: "MGA-009115-50"; repeats get "-2", "-3"."""
        load = f"{product.grain:03d}" if product.grain else catalog.SHOT_CODES[product.shot or ""]
        code = f"{self.style.prefix}-{caliber.code}{load}-{rounds}"
        uses = self._code_uses.get(code, 0)
        self._code_uses[code] = uses + 1
        return code if uses == 0 else f"{code}-{uses + 1}"


def _sale(rng: random.Random, cents: int) -> str:
    """A sale price 5-20% off on one row in twenty, else ""."""
    if rng.random() < 0.05:
        return money(round(cents * (0.8 + 0.15 * rng.random())))
    return ""


def _upc(rng: random.Random, gtin: str) -> str:
    """20% missing, 5% mangled (leading zeros dropped, or dashed), else as is."""
    draw = rng.random()
    if draw >= 0.25:
        return gtin
    if draw < 0.20:
        return ""
    if gtin.startswith("0") and draw < 0.225:
        return gtin.lstrip("0")
    return f"{gtin[0]}-{gtin[1:6]}-{gtin[6:11]}-{gtin[11]}"


def _case_pack(rng: random.Random, rounds: int) -> int:
    """A bigger package of the same load, in a count stores sell: 100, 250, 500, 1000 ..."""
    return rng.choice(_PACKS_OF[rounds])


_PACKS_OF = {
    rounds: [t for t in (25, 100, 200, 250, 500, 1000) if t > rounds and t % rounds == 0]
    or [2 * rounds]
    for rounds in {r for counts in catalog.ROUND_COUNTS.values() for r, _ in counts}
}


def money(cents: int) -> str:
    """1899 -> "18.99"."""
    return f"{cents / 100:.2f}"  # exact: cents / 100 is within far less than half a cent


def cents_of(price: str) -> int:
    """The cents of a price this module wrote: "18.99" -> 1899."""
    whole, _, frac = price.partition(".")
    return int(whole) * 100 + int(frac or 0)


def _load(product: Product, grain_format: str, bullet: str) -> str:
    """The grain and bullet ("115gr FMJ"), or for a shell its shot load ("00 Buck 9 Pellet")."""
    return grain_format.format(product.grain, bullet) if product.grain else product.shot or ""


def _maker(product: Product) -> str:
    """The maker as titles name it: "American Eagle" alone, but "PMC Bronze"."""
    if product.line in catalog.STANDALONE_LINES:
        return product.line
    return f"{product.brand} {product.line}".rstrip()


def _retail_title(product: Product, caliber: catalog.Caliber, rounds: int) -> str:
    """Like "Federal American Eagle 9mm Luger 115gr FMJ - 50 Rounds"."""
    line = product.line
    maker = line if line.startswith(product.brand) else f"{product.brand} {line}".rstrip()
    load = _load(product, "{}gr {}", product.bullet_type)
    return f"{maker} {caliber.name} {load} - {rounds} Rounds"


def _caps_title(product: Product, caliber: catalog.Caliber, rounds: int) -> str:
    """Like "9MM 115GR FMJ AMERICAN EAGLE 50RD BOX" (CASE from 500 rounds)."""
    load = _load(product, "{}GR {}", product.bullet_type)
    box = "CASE" if rounds >= 500 else "BOX"
    return f"{caliber.short} {load} {_maker(product)} {rounds}RD {box}".upper()


def _verbose_title(product: Product, caliber: catalog.Caliber, rounds: int) -> str:
    """Like "American Eagle 9x19 115 Grain Full Metal Jacket, Box of 50" ("Case of" from 500)."""
    load = _load(product, "{} Grain {}", catalog.BULLET_NAMES[product.bullet_type])
    box = "Case" if rounds >= 500 else "Box"
    return f"{_maker(product)} {caliber.alias} {load}, {box} of {rounds}"


_TITLES = {"retail": _retail_title, "caps": _caps_title, "verbose": _verbose_title}
