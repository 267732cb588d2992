"""The synthetic product catalogue: what ammunition exists, before any dealer sells it.

A product is one box (or case) of one load from one maker, identified by a
GTIN-12 (UPC-A) with a correct GS1 check digit. Calibers, loads, pack sizes and
prices per round follow the shape of the US retail market closely enough that
benchmarks and matching see realistic spreads.

Everything is drawn from a ``random.Random`` seeded by the caller, and GTINs and
MPNs are unique by construction (per-brand counters, not a set of everything
issued), so a million-product catalogue can be streamed in flat memory.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from decimal import Decimal
from functools import cache
from itertools import accumulate
from math import gcd
from typing import Generic, TypeVar

T = TypeVar("T")

HANDGUN, RIFLE, RIMFIRE, SHOTGUN = "Handgun", "Rifle", "Rimfire", "Shotgun"


@dataclass(frozen=True, slots=True)
class Caliber:
    """A cartridge and the ways dealers write it."""

    name: str  # canonical, e.g. "9mm Luger"
    short: str  # shouty short form, e.g. "9MM"
    alias: str  # another common spelling, e.g. "9x19"
    code: str  # three characters used in SKU codes, e.g. "009"
    mpn: str  # the caliber's part of a maker's part number, e.g. "9"
    category: str
    weight: int  # relative share of listings
    grains: tuple[tuple[int, int], ...]  # (grain, weight); empty for shotgun
    price_range: tuple[float, float]  # $ per round for plain range ammunition


CALIBERS: tuple[Caliber, ...] = (
    Caliber("9mm Luger", "9MM", "9x19", "009", "9", HANDGUN, 30,
            ((115, 6), (124, 3), (147, 2)), (0.22, 0.42)),
    Caliber(".223 Remington", ".223 REM", ".223 Rem", "223", "223", RIFLE, 9,
            ((55, 6), (62, 3), (69, 1), (77, 1)), (0.40, 0.70)),
    Caliber("5.56x45mm NATO", "5.56 NATO", "5.56x45", "556", "556", RIFLE, 8,
            ((55, 5), (62, 4), (77, 1)), (0.42, 0.72)),
    Caliber(".45 ACP", ".45 ACP", ".45 Auto", "045", "45", HANDGUN, 6,
            ((185, 2), (200, 1), (230, 6)), (0.45, 0.75)),
    Caliber(".40 S&W", ".40 S&W", ".40 Smith & Wesson", "040", "40", HANDGUN, 5,
            ((155, 1), (165, 2), (180, 4)), (0.32, 0.55)),
    Caliber(".380 ACP", ".380 AUTO", ".380 Auto", "380", "380", HANDGUN, 5,
            ((90, 3), (95, 4), (100, 1)), (0.35, 0.60)),
    Caliber(".22 LR", ".22LR", ".22 Long Rifle", "022", "22", RIMFIRE, 9,
            ((36, 2), (40, 5)), (0.05, 0.10)),
    Caliber("12 Gauge", "12GA", "12 Ga", "12G", "12", SHOTGUN, 6, (), (0.35, 0.60)),
    Caliber(".308 Winchester", ".308 WIN", ".308 Win", "308", "308", RIFLE, 4,
            ((147, 2), (150, 3), (168, 3), (175, 2), (180, 1)), (1.00, 2.00)),
    Caliber("7.62x39mm", "7.62X39", "7.62x39", "762", "762", RIFLE, 4,
            ((122, 2), (123, 3), (124, 1)), (0.35, 0.65)),
    Caliber("6.5 Creedmoor", "6.5 CM", "6.5 Creed", "065", "65", RIFLE, 3,
            ((120, 1), (140, 3), (143, 2), (147, 2)), (1.20, 2.40)),
    Caliber(".300 AAC Blackout", "300 BLK", ".300 Blackout", "300", "300", RIFLE, 3,
            ((110, 2), (125, 2), (150, 1), (220, 2)), (0.70, 1.30)),
    Caliber(".38 Special", ".38 SPL", ".38 Spl", "038", "38", HANDGUN, 3,
            ((110, 1), (125, 2), (130, 2), (158, 2)), (0.45, 0.80)),
    Caliber(".357 Magnum", ".357 MAG", ".357 Mag", "357", "357", HANDGUN, 2,
            ((125, 2), (158, 2)), (0.60, 1.00)),
    Caliber("10mm Auto", "10MM", "10mm", "010", "10", HANDGUN, 2,
            ((155, 1), (180, 2), (200, 1)), (0.55, 1.00)),
    Caliber("20 Gauge", "20GA", "20 Ga", "20G", "20", SHOTGUN, 2, (), (0.35, 0.55)),
    Caliber(".30-06 Springfield", ".30-06 SPRG", ".30-06 Sprg", "306", "3006", RIFLE, 1,
            ((150, 2), (165, 1), (180, 2)), (1.20, 2.20)),
)  # fmt: skip

# Bullet types a category allows, with weights, and the price multiplier of each.
BULLET_TYPES: dict[str, tuple[tuple[str, int], ...]] = {
    HANDGUN: (("FMJ", 7), ("JHP", 3), ("TMJ", 1)),
    RIFLE: (("FMJ", 5), ("SP", 2), ("BTHP", 2), ("OTM", 1), ("HP", 1)),
    RIMFIRE: (("LRN", 4), ("CPRN", 3), ("HP", 2)),
    SHOTGUN: (("Birdshot", 4), ("Buckshot", 3), ("Slug", 2)),
}
BULLET_NAMES = {
    "FMJ": "Full Metal Jacket", "JHP": "Jacketed Hollow Point", "TMJ": "Total Metal Jacket",
    "SP": "Soft Point", "BTHP": "Boat Tail Hollow Point", "OTM": "Open Tip Match",
    "HP": "Hollow Point", "LRN": "Lead Round Nose", "CPRN": "Copper Plated Round Nose",
    "Birdshot": "Birdshot", "Buckshot": "Buckshot", "Slug": "Rifled Slug",
}  # fmt: skip
_BULLET_PREMIUM = {"FMJ": 1.0, "TMJ": 1.1, "LRN": 1.0, "CPRN": 1.1, "HP": 1.3, "SP": 1.25,
                   "OTM": 1.4, "BTHP": 1.6, "JHP": 1.8}  # fmt: skip
# Shotgun loads: (description, code) per gauge and type, and $ per shell.
SHOT_LOADS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("12 Gauge", "Buckshot"): (("00 Buck 9 Pellet", "00B"), ("#4 Buck 27 Pellet", "04B")),
    ("12 Gauge", "Slug"): (("1 oz Rifled Slug", "1SL"),),
    ("12 Gauge", "Birdshot"): (("1 1/8 oz #8 Shot", "B08"), ("1 oz #7.5 Shot", "B75")),
    ("20 Gauge", "Buckshot"): (("#3 Buck 20 Pellet", "03B"),),
    ("20 Gauge", "Slug"): (("3/4 oz Rifled Slug", "34S"),),
    ("20 Gauge", "Birdshot"): (("7/8 oz #8 Shot", "B08"),),
}
SHOT_CODES = {load: code for loads in SHOT_LOADS.values() for load, code in loads}
_SHELL_PRICE = {"Buckshot": (0.80, 1.50), "Slug": (1.00, 1.80)}  # birdshot uses the caliber's
_CASE_PRICE = {"Steel": 0.8, "Aluminum": 0.85, "Brass": 1.0, "Nickel": 1.1, "Plastic": 1.0}

# Rounds per package, with weights: by category, except that defensive and match loads
# come in small boxes and birdshot by the 25-shell box or the 250-shell case.
ROUND_COUNTS: dict[str, tuple[tuple[int, int], ...]] = {
    HANDGUN: ((20, 2), (25, 1), (50, 8), (100, 2), (250, 1), (500, 1), (1000, 2)),
    RIFLE: ((20, 8), (50, 2), (100, 1), (250, 1), (500, 1), (1000, 1)),
    RIMFIRE: ((50, 3), (100, 2), (250, 1), (500, 3), (1000, 1)),
    SHOTGUN: ((5, 5), (10, 2), (25, 2), (250, 1)),  # buckshot and slugs
    "Premium": ((20, 3), (25, 2), (50, 1)),
    "Birdshot": ((25, 6), (100, 1), (250, 2)),
}
_PREMIUM = frozenset({"JHP", "BTHP", "OTM"})


@dataclass(frozen=True, slots=True)
class Line:
    """A maker's product line and the loads it covers."""

    brand: str
    name: str  # "" when the brand sells under its own name only
    code: str  # the line's part-number prefix, e.g. "AE"
    weight: int
    categories: frozenset[str]
    bullets: frozenset[str]
    case: str


_CATEGORY_LETTERS = {"H": HANDGUN, "R": RIFLE, "F": RIMFIRE, "S": SHOTGUN}


def _line(
    brand: str, name: str, code: str, weight: int, kinds: str, bullets: str, case: str = "Brass"
) -> Line:
    """A line; ``kinds`` are category letters: Handgun, Rifle, rimFire, Shotgun."""
    categories = frozenset(_CATEGORY_LETTERS[k] for k in kinds)
    return Line(brand, name, code, weight, categories, frozenset(bullets.split()), case)


LINES: tuple[Line, ...] = (
    _line("Federal", "American Eagle", "AE", 10, "HRF", "FMJ TMJ OTM LRN CPRN"),
    _line("Federal", "HST", "P", 3, "H", "JHP", "Nickel"),
    _line("Federal", "Power-Shok", "PS", 3, "RS", "SP Buckshot Slug"),
    _line("Federal", "Gold Medal Match", "GM", 2, "R", "BTHP OTM"),
    _line("Winchester", "USA", "USA", 6, "HR", "FMJ"),
    _line("Winchester", "Super-X", "X", 4, "RFS", "SP HP Buckshot Slug Birdshot"),
    _line("Winchester", "Ranger", "RA", 2, "H", "JHP", "Nickel"),
    _line("Remington", "UMC", "L", 4, "HR", "FMJ"),
    _line("Remington", "Golden Saber", "GS", 2, "H", "JHP", "Nickel"),
    _line("Remington", "Core-Lokt", "R", 2, "R", "SP"),
    _line("Remington", "Gun Club", "GC", 2, "S", "Birdshot"),
    _line("Hornady", "Critical Defense", "", 3, "H", "JHP", "Nickel"),
    _line("Hornady", "American Gunner", "", 2, "HR", "JHP BTHP"),
    _line("Hornady", "ELD Match", "", 2, "R", "BTHP"),
    _line("CCI", "Mini-Mag", "", 4, "F", "CPRN HP"),
    _line("CCI", "Standard Velocity", "", 2, "F", "LRN"),
    _line("CCI", "Stinger", "", 1, "F", "HP"),
    _line("PMC", "Bronze", "B", 4, "HR", "FMJ SP"),
    _line("PMC", "X-TAC", "XP", 2, "R", "FMJ"),
    _line("Fiocchi", "Range Dynamics", "RD", 3, "H", "FMJ"),
    _line("Fiocchi", "Exacta", "EX", 1, "RF", "LRN BTHP"),
    _line("Sellier & Bellot", "", "", 4, "HRS", "FMJ SP JHP Buckshot Slug"),
    _line("Blazer", "Blazer Brass", "", 5, "H", "FMJ"),
    _line("Blazer", "Blazer Aluminum", "", 2, "H", "FMJ", "Aluminum"),
    _line("Speer", "Gold Dot", "", 3, "H", "JHP", "Nickel"),
    _line("Speer", "Lawman", "", 2, "H", "TMJ"),
    _line("Magtech", "Sport Shooting", "MT", 3, "H", "FMJ"),
    _line("Magtech", "Guardian Gold", "GG", 1, "H", "JHP"),
    _line("Aguila", "Super Extra", "", 3, "F", "LRN CPRN HP"),
    _line("Aguila", "", "", 2, "HS", "FMJ Birdshot Buckshot"),
    _line("Norma", "Range & Training", "", 2, "HR", "FMJ"),
    _line("Nosler", "Match Grade", "", 1, "R", "BTHP OTM"),
    _line("Barnes", "VOR-TX", "", 1, "R", "SP"),
    _line("Barnes", "TAC-XPD", "", 1, "H", "JHP"),
    _line("Tula", "", "TA", 3, "HR", "FMJ HP SP", "Steel"),
    _line("Wolf", "Military Classic", "MC", 3, "HR", "FMJ HP SP", "Steel"),
    _line("Prvi Partizan", "", "PP", 3, "HR", "FMJ SP"),
    _line("Underwood", "Xtreme Defender", "", 1, "H", "JHP"),
)
# Lines known by their own name; titles that name one thing name these, others get the brand too.
STANDALONE_LINES = frozenset({
    "American Eagle", "HST", "Power-Shok", "Gold Medal Match", "Super-X", "Golden Saber",
    "Core-Lokt", "Critical Defense", "Mini-Mag", "Blazer Brass", "Blazer Aluminum", "Gold Dot",
    "Guardian Gold", "Super Extra", "Military Classic", "Xtreme Defender",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Brand:
    gs1_prefix: str  # six-digit GS1 company prefix; many start with 0, so leading zeros matter
    mpn_digits: int  # catalogue-number length; 0 = part numbers spell the load ("AE9115BK")
    abbreviation: str  # how dealers abbreviate the brand in their own codes


BRANDS: dict[str, Brand] = {
    "Federal": Brand("029465", 0, "FED"), "Winchester": Brand("020892", 0, "WIN"),
    "Remington": Brand("047700", 5, "REM"), "Hornady": Brand("090255", 5, "HDY"),
    "CCI": Brand("076683", 4, "CCI"), "PMC": Brand("741569", 0, "PMC"),
    "Fiocchi": Brand("762344", 0, "FIO"), "Sellier & Bellot": Brand("754908", 6, "SB"),
    "Blazer": Brand("076684", 4, "BLZ"), "Speer": Brand("076685", 5, "SPR"),
    "Magtech": Brand("754909", 0, "MAG"), "Aguila": Brand("640420", 10, "AGU"),
    "Norma": Brand("066761", 8, "NOR"), "Nosler": Brand("054041", 5, "NOS"),
    "Barnes": Brand("716955", 5, "BAR"), "Tula": Brand("811737", 0, "TUL"),
    "Wolf": Brand("645611", 0, "WLF"), "Prvi Partizan": Brand("860003", 0, "PPU"),
    "Underwood": Brand("081713", 3, "UND"),
}  # fmt: skip
_ITEMS_PER_PREFIX = 100_000  # a six-digit prefix leaves five digits of item reference


@dataclass(frozen=True, slots=True)
class Product:
    """One package of one load: the truth every dealer row is drawn from."""

    gtin: str  # GTIN-12 (UPC-A), check digit correct, leading zeros kept
    brand: str
    line: str  # product line, "" when none
    mpn: str
    caliber: str  # canonical caliber name
    category: str  # Handgun, Rifle, Rimfire, Shotgun
    grain: int | None  # None for shotgun shells
    shot: str | None  # shotgun load, e.g. "00 Buck 9 Pellet"; None otherwise
    bullet_type: str
    case_type: str
    rounds: int
    price_per_round: Decimal  # the market's base price, before any dealer markup


def gs1_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit for the digits of a GTIN without its last digit."""
    return str(-_weighted_sum(body) % 10)


def _weighted_sum(body: str) -> int:
    """GS1 weights: 3 for the digit next to the check digit, then 1, 3, 1 ... leftwards."""
    digits = body.encode("ascii")[::-1]
    tripled, single = digits[0::2], digits[1::2]
    return 3 * (sum(tripled) - 48 * len(tripled)) + sum(single) - 48 * len(single)


@cache
def _item_sums() -> bytes:
    """The weighted digit sum of every five-digit item reference (the GTIN-12's last
    digits before the check digit, weighted 3 1 3 1 3): a 100 kB table that makes a
    check digit one lookup."""
    return bytes(_weighted_sum(f"{item:05d}") for item in range(_ITEMS_PER_PREFIX))


def caliber_named(name: str) -> Caliber:
    """The caliber with this canonical name."""
    return _CALIBERS_BY_NAME[name]


_CALIBERS_BY_NAME = {c.name: c for c in CALIBERS}
_PRODUCT_SETTERS = tuple(Product.__dict__[f.name].__set__ for f in fields(Product))


def catalogue(n_products: int, seed: int) -> list[Product]:
    """``n_products`` distinct products, the same list for the same seed."""
    return list(iter_catalogue(n_products, seed))


def iter_catalogue(n_products: int, seed: int) -> Iterator[Product]:
    """Stream the products of ``catalogue`` one at a time (flat memory for any size)."""
    rng = random.Random(f"catalogue:{seed}")
    numbers = _Numbers(rng)
    loads = _loads()
    for _ in range(n_products):
        yield _product(rng, numbers, loads.pick(rng))


@dataclass(frozen=True, slots=True)
class _Load:
    """Everything about a product but its identity and price: one of a few thousand."""

    caliber: Caliber
    line: Line
    bullet: str
    grain: int | None
    shot: tuple[str, str] | None  # (description, code) for shotgun shells
    rounds: int
    case: str
    price_low: int  # $ per round in ten-thousandths, all premiums applied
    price_span: int
    mpn_stem: str  # e.g. "AE9115" for brands whose part numbers spell the load, else ""


def _product(rng: random.Random, numbers: _Numbers, load: _Load) -> Product:
    line, caliber, shot = load.line, load.caliber, load.shot
    price = Decimal(load.price_low + int(rng.random() * load.price_span)).scaleb(-4)
    return _new_product(
        numbers.gtin(line.brand),  # gtin
        line.brand,  # brand
        line.name,  # line
        numbers.mpn(line.brand, load.mpn_stem),  # mpn
        caliber.name,  # caliber
        caliber.category,  # category
        load.grain,  # grain
        shot[0] if shot else None,  # shot
        load.bullet,  # bullet_type
        load.case,  # case_type
        load.rounds,  # rounds
        price,  # price_per_round
    )


def _new_product(*values: object) -> Product:
    """``Product(*values)`` without the frozen ``__init__``, which sets each field through
    ``object.__setattr__``: 3.2 us against 1.5 us here, a tenth of a bench row's budget."""
    product = object.__new__(Product)
    for set_field, value in zip(_PRODUCT_SETTERS, values, strict=True):
        set_field(product, value)
    return product


class Weighted(Generic[T]):
    """A weighted choice with its cumulative table built once (``rng.choices`` rebuilds it)."""

    __slots__ = ("_cumulative", "_total", "_values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        values, weights = zip(*pairs, strict=True)
        self._values: tuple[T, ...] = values
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self._values[bisect(self._cumulative, rng.random() * self._total)]


@cache
def _loads() -> Weighted[_Load]:
    """Every load the catalogue can hold, weighted by how often a product is one.

    The weight is the product of the conditional shares: caliber, then a line
    that makes that category, a bullet type the line makes, grain (or shot
    load), and pack size. One draw from this table replaces six dependent ones.
    """
    return Weighted(
        (load, weight)
        for caliber, p_caliber in _shares((c, c.weight) for c in CALIBERS)
        for load, weight in _loads_of(caliber, p_caliber)
    )


def _loads_of(caliber: Caliber, share: float) -> Iterator[tuple[_Load, float]]:
    category = caliber.category
    allowed = dict(BULLET_TYPES[category])
    lines = [(line, line.weight) for line in LINES if category in line.categories]
    for line, p_line in _shares((line, w) for line, w in lines if line.bullets & allowed.keys()):
        bullets = [(b, w) for b, w in allowed.items() if b in line.bullets]
        for bullet, p_bullet in _shares(bullets):
            for (grain, shot), p_load in _grain_or_shot(caliber, bullet):
                for rounds, p_rounds in _shares(ROUND_COUNTS[_packaging(category, bullet)]):
                    case = "Plastic" if category == SHOTGUN else line.case
                    low, high = _price_range(caliber, bullet, case, rounds)
                    stem = _mpn_stem(line, caliber, shot[1] if shot else grain)
                    load = _Load(
                        caliber, line, bullet, grain, shot, rounds, case, low, high - low, stem
                    )
                    yield load, share * p_line * p_bullet * p_load * p_rounds


def _packaging(category: str, bullet: str) -> str:
    """Which ``ROUND_COUNTS`` entry a load's pack sizes come from."""
    if bullet == "Birdshot":
        return "Birdshot"
    return "Premium" if bullet in _PREMIUM else category


def _shares(pairs: Iterable[tuple[T, float]]) -> list[tuple[T, float]]:
    """Weights scaled to sum to 1."""
    items = list(pairs)
    total = sum(w for _, w in items)
    return [(value, w / total) for value, w in items]


def _grain_or_shot(
    caliber: Caliber, bullet: str
) -> list[tuple[tuple[int | None, tuple[str, str] | None], float]]:
    if caliber.grains:
        return _shares(((grain, None), w) for grain, w in caliber.grains)
    return _shares(((None, shot), 1) for shot in SHOT_LOADS[caliber.name, bullet])


def _mpn_stem(line: Line, caliber: Caliber, load: int | str | None) -> str:
    """The letters-and-load stem of a part number, for brands that spell loads out."""
    return "" if BRANDS[line.brand].mpn_digits else f"{line.code}{caliber.mpn}{load}"


def _price_range(caliber: Caliber, bullet: str, case: str, rounds: int) -> tuple[int, int]:
    """($ low, $ high) per round in ten-thousandths of a dollar."""
    low, high = _SHELL_PRICE.get(bullet, caliber.price_range)
    factor = _BULLET_PREMIUM.get(bullet, 1.0) * _CASE_PRICE[case] * 10_000
    if rounds >= 500:
        factor *= 0.92  # bulk cases are cheaper per round
    return round(low * factor), round(high * factor)


class _Walk:
    """Distinct-looking numbers below ``modulus`` that never repeat within a lap.

    It steps a seeded stride coprime with the modulus from a seeded start, so
    the first ``modulus`` steps visit every number once; ``next`` gives
    (lap, number), the lap growing every ``modulus`` steps.
    """

    __slots__ = ("_k", "_start", "_stride", "modulus", "width")

    def __init__(self, rng: random.Random, modulus: int) -> None:
        self.modulus = modulus
        self.width = len(str(modulus - 1))  # digits, for zero padding
        self._start = rng.randrange(modulus)
        stride = rng.randrange(1, modulus) if modulus > 1 else 1
        while gcd(stride, modulus) != 1:
            stride += 1
        self._stride = stride
        self._k = 0

    def next(self) -> tuple[int, int]:
        k = self._k
        self._k = k + 1
        return k // self.modulus, (self._start + k * self._stride) % self.modulus


class _Numbers:
    """Issues GTINs (one walk per brand) and MPNs (one per brand or part-number stem).

    A brand that uses up a lap of GTIN item numbers moves to an overflow prefix
    ``9BBLLL`` (no brand's own prefix starts with 9); a used-up lap of MPNs gets
    a lap suffix.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._gtins: dict[str, _Walk] = {}
        self._mpns: dict[str, _Walk] = {}
        self._prefix_sums: dict[str, int] = {}
        self._item_sums = _item_sums()

    def gtin(self, brand: str) -> str:
        walk = self._gtins.get(brand)
        if walk is None:
            walk = self._gtins[brand] = _Walk(self._rng, _ITEMS_PER_PREFIX)
        lap, item = walk.next()
        prefix = BRANDS[brand].gs1_prefix if lap == 0 else f"9{_BRAND_NUMBER[brand]:02d}{lap:03d}"
        weighted = self._prefix_sums.get(prefix)
        if weighted is None:
            weighted = self._prefix_sums[prefix] = _weighted_sum(prefix + "00000")
        return f"{prefix}{item:05d}{-(weighted + self._item_sums[item]) % 10}"

    def mpn(self, brand: str, stem: str) -> str:
        """A catalogue number ("96408") or, given a stem, the stem and a suffix ("AE9115BK")."""
        key = stem or brand  # one walk per stem (or per brand): numbers never repeat in it
        walk = self._mpns.get(key)
        if walk is None:
            digits = BRANDS[brand].mpn_digits
            modulus = 10**digits if digits else len(_SUFFIXES)
            walk = self._mpns[key] = _Walk(self._rng, modulus)
        lap, item = walk.next()
        number = stem + _SUFFIXES[item] if stem else f"{item:0{walk.width}d}"
        return f"{number}-{lap}" if lap else number


_BRAND_NUMBER = {brand: i for i, brand in enumerate(BRANDS)}
_SUFFIXES = [a + b for a in "ABCDEFGHJKLMNPRSTUVWXYZ" for b in "ABCDEFGHJKLMNPRSTUVWXYZ"]
