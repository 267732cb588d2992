"""Caliber names: one canonical name per cartridge, found from any of its aliases.

``canonical(text)`` answers for a caliber field ("9MM LUGER", "5.56x45") and
``find(text)`` pulls a caliber out of a product title ("Federal 9mm 115gr FMJ").

Matching is case-, space- and punctuation-insensitive: an alias is a sequence
of letter and digit tokens, and in text the tokens may be glued together or
separated by up to three non-alphanumeric characters, so the alias "5.56x45"
matches "5.56x45", "5.56 X 45" and "556x45", and "30-06" matches "30.06" and
"3006". Cartridges that look alike stay distinct (".223 Remington" and
"5.56x45mm NATO"; ".308 Winchester" and "7.62x51mm NATO"), and look-alikes that
are different cartridges have their own entries so that a shorter alias never
claims them ("9mm Makarov" is not "9mm Luger"; "9mm Kurz" is ".380 ACP").
Title extraction is one compiled alternation, longest alias first, so at any
position the most specific alias wins ("9mm Makarov" over "9mm", "22 Magnum"
over "22 Mag"). The leftmost caliber in a title wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Canonical name -> its aliases, separated by "|" (the name is always an alias too).
CALIBERS: dict[str, str] = {
    # Handgun
    "9mm Luger": "9mm | 9x19 | 9mm luger | 9mm parabellum | 9mm para | 9mm nato | 9 luger | 9 para",
    "9x18mm Makarov": "9x18 | 9x18mm | 9mm makarov | 9mm mak | 9x18 makarov",
    ".380 ACP": "380 | 380 acp | 380 auto | 9mm kurz | 9mm short | 9mm browning | 9x17",
    ".38 Super": "38 super | 38 super auto",
    ".40 S&W": "40 s&w | 40 sw | 40 smith wesson | 40 smith and wesson | 40 cal | 40 caliber",
    ".45 ACP": "45 acp | 45 auto | 45 automatic",
    "10mm Auto": "10mm | 10 mm | 10mm auto | 10mm automatic",
    ".38 Special": "38 special | 38 spl | 38 spc | 38 spcl | 38 sp",
    ".357 Magnum": "357 magnum | 357 mag | 357 remington magnum | 357 rem mag",
    ".357 SIG": "357 sig | 357 sig sauer",
    ".44 Magnum": "44 magnum | 44 mag | 44 rem mag | 44 remington magnum",
    ".44 Special": "44 special | 44 spl",
    ".45 Colt": "45 colt | 45 long colt | 45 lc",
    ".25 ACP": "25 acp | 25 auto",
    ".32 ACP": "32 acp | 32 auto",
    "5.7x28mm": "5.7x28 | 5.7x28mm | 5.7 x 28 fn",
    # Rimfire
    ".22 LR": "22 lr | 22lr | 22 long rifle | 22 long rifle rimfire",
    ".22 WMR": "22 wmr | 22 mag | 22 magnum | 22 win mag | 22 winchester magnum",
    ".17 HMR": "17 hmr | 17 hornady magnum rimfire",
    # Rifle
    ".223 Remington": "223 | 223 rem | 223 remington",
    "5.56x45mm NATO": "5.56 | 5.56 nato | 5.56x45 | 5.56x45mm | 5.56 mm | 5.56x45 nato",
    ".308 Winchester": "308 | 308 win | 308 winchester",
    "7.62x51mm NATO": "7.62x51 | 7.62x51mm | 7.62 nato | 7.62x51 nato",
    "7.62x39mm": "7.62x39",
    "7.62x54mmR": "7.62x54r | 7.62x54 | 7.62x54 r",
    "5.45x39mm": "5.45x39",
    "6.5 Creedmoor": "6.5 creedmoor | 6.5 creed | 6.5 cm | 6.5mm creedmoor",
    "6.5 Grendel": "6.5 grendel",
    ".300 AAC Blackout": "300 blackout | 300 blk | 300 aac | 300 aac blackout | 7.62x35",
    ".30-06 Springfield": "30-06 | 30-06 springfield | 30-06 sprg | 30-06 spfld",
    ".30-30 Winchester": "30-30 | 30-30 win | 30-30 winchester",
    ".300 Win Mag": "300 win mag | 300 winchester magnum | 300 wm | 300 win magnum",
    ".243 Winchester": "243 | 243 win | 243 winchester",
    ".270 Winchester": "270 | 270 win | 270 winchester",
    "7mm Remington Magnum": "7mm rem mag | 7mm remington magnum | 7mm mag",
    ".338 Lapua Magnum": "338 lapua | 338 lapua magnum | 338 lapua mag",
    ".350 Legend": "350 legend",
    ".450 Bushmaster": "450 bushmaster",
    ".45-70 Government": "45-70 | 45-70 govt | 45-70 government",
    ".22-250 Remington": "22-250 | 22-250 rem | 22-250 remington",
    ".50 BMG": "50 bmg | 50 cal bmg | 12.7x99 | 12.7x99mm",
    # Shotgun
    "12 Gauge": "12 gauge | 12ga | 12 ga | 12-gauge | 12 gage",
    "16 Gauge": "16 gauge | 16ga | 16 ga | 16-gauge",
    "20 Gauge": "20 gauge | 20ga | 20 ga | 20-gauge | 20 gage",
    "28 Gauge": "28 gauge | 28ga | 28 ga | 28-gauge",
    ".410 Bore": "410 | 410 bore | 410 ga | 410 gauge",
}

_TOKEN = re.compile(r"[a-z]+|\d+")
_SEPARATOR = r"[^a-z0-9]{0,3}"


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _key(text: str) -> str:
    return "".join(_tokens(text))


def _alias_pattern(alias: str) -> str:
    """The alias's tokens, separator-tolerant, with a right boundary ("9mm" not "9mmx")."""
    body = _SEPARATOR.join(_tokens(alias))  # tokens are letters or digits: nothing to escape
    return body + (r"(?![0-9])" if body[-1].isdigit() else r"(?![a-z])")


def alternation(patterns: Iterable[str]) -> re.Pattern[str]:
    """One regex matching any of ``patterns`` as a whole word, the longest first.

    Each pattern must start with a plain lowercase letter or digit. Longest
    first makes the most specific pattern win at a position ("9mm Makarov" over
    "9mm"). Patterns are grouped by that first character and the left word
    boundary is a look-behind placed after it ("19mm" is not "9mm"): the regex
    then starts with plain characters, so the engine skips quickly to positions
    where a pattern can start and tries only that group. A caller that wants
    case-insensitive letters lowercases the text instead of passing IGNORECASE,
    which would disable that skip.
    """
    groups: dict[str, list[str]] = {}
    for pattern in sorted(set(patterns), key=len, reverse=True):
        if not (pattern[0].isascii() and pattern[0].isalnum()):
            raise ValueError(f"pattern must start with a letter or digit: {pattern!r}")
        groups.setdefault(pattern[0], []).append(pattern[1:])
    return re.compile(
        "|".join(f"{c}(?<![a-z0-9]{c})(?:{'|'.join(rest)})" for c, rest in groups.items())
    )


def _build() -> tuple[dict[str, str], re.Pattern[str]]:
    by_key: dict[str, str] = {}
    for alias, name in _aliases():
        by_key.setdefault(_key(alias), name)
    return by_key, alternation(_alias_pattern(alias) for alias, _ in _aliases())


def _aliases() -> list[tuple[str, str]]:
    """(alias, canonical name) pairs, the name first."""
    return [
        (alias.strip(), name)
        for name, aliases in CALIBERS.items()
        for alias in (name, *aliases.split("|"))
    ]


_BY_KEY, _MATCHER = _build()


def canonical(text: str | None) -> str | None:
    """The canonical name for a caliber field's text, or one found inside it."""
    if not text:
        return None
    return _BY_KEY.get(_key(text)) or find(text)


def find(text: str | None) -> str | None:
    """The first caliber named in free text such as a product title, or None."""
    if not text:
        return None
    match = _MATCHER.search(text.lower())
    return _name_of(match.group()) if match else None


@lru_cache(maxsize=1024)
def _name_of(matched: str) -> str:
    """The canonical name for matched alias text (few distinct spellings: cached)."""
    return _BY_KEY[_key(matched)]
