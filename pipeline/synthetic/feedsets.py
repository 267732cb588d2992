"""Ready-made sets of feeds: the demo's five dealers, and single big feeds for the bench.

``build_feed_set(out_dir, seed, version=1)`` writes every demo dealer's feed;
``version=2`` writes the same dealers after ``mutate``, so loading version 1
then version 2 exercises created, updated (price, stock), deactivated and
unchanged rows. ``write_tier_feed`` streams one dealer's feed of any size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.synthetic import mutation, writers
from pipeline.synthetic import rows as dealer
from pipeline.synthetic.products import Product, catalogue
from pipeline.synthetic.rows import Expected

DEMO_FORMATS = ("csv", "tsv", "json", "xml", "pipe")


@dataclass(frozen=True, slots=True)
class DealerSpec:
    """One demo dealer: who it is and what feed it publishes."""

    index: int  # the dealer_index its rows are generated with
    name: str
    slug: str  # file-name friendly name
    fmt: str
    profile: str  # the feed's column layout: snake, retail, api, google-merchant, shareasale
    n_skus: int
    markup: float


@dataclass(frozen=True, slots=True)
class FeedFile:
    """A feed written to disk and what loading it must produce."""

    dealer: str
    path: Path
    fmt: str
    profile: str
    expected: Expected
    changes: mutation.MutationSummary | None = None  # version 2 only: what moved since v1


def demo_dealers(
    seed: int = 7, skus_per_dealer: Sequence[int] = (3000, 2500, 2000, 1500, 800)
) -> list[DealerSpec]:
    """The demo's dealers, one per size in ``skus_per_dealer``, formats in turn."""
    specs = []
    for index, n_skus in enumerate(skus_per_dealer):
        style = dealer.dealer_style(index)
        fmt = DEMO_FORMATS[index % len(DEMO_FORMATS)]
        specs.append(DealerSpec(
            index=index, name=style.name, slug=style.prefix.lower(), fmt=fmt,
            profile=writers.DEFAULT_LAYOUT[fmt], n_skus=n_skus,
            markup=dealer.dealer_markup(index, seed),
        ))  # fmt: skip
    return specs


def demo_catalogue(specs: Sequence[DealerSpec], seed: int) -> list[Product]:
    """The products the demo dealers draw from: a third more than the biggest dealer carries,
    so dealers overlap on most products but not all."""
    return catalogue(max((s.n_skus for s in specs), default=0) * 4 // 3, seed)


def build_feed_set(
    out_dir: Path | str,
    seed: int = 7,
    version: int = 1,
    *,
    skus_per_dealer: Sequence[int] = (3000, 2500, 2000, 1500, 800),
    malformed_fraction: float = 0.01,
) -> list[FeedFile]:
    """Write every demo dealer's feed, version 1 or 2, into ``out_dir``."""
    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, not {version!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specs = demo_dealers(seed, skus_per_dealer)
    products = demo_catalogue(specs, seed)
    return [_write_dealer(spec, products, out, seed, version, malformed_fraction) for spec in specs]


def _write_dealer(
    spec: DealerSpec,
    products: Sequence[Product],
    out: Path,
    seed: int,
    version: int,
    malformed_fraction: float,
) -> FeedFile:
    feed = dealer.dealer_rows(
        spec.index, products, spec.n_skus, seed, malformed_fraction=malformed_fraction
    )
    rows, changes = feed.rows, None
    if version == 2:
        rows, changes = mutation.mutate(rows, seed * 1000 + spec.index, products=products)
    path = out / f"{spec.slug}-v{version}.{writers.EXTENSIONS[spec.fmt]}"
    expected = writers.write_feed(rows, path, spec.fmt, merchant=spec.name)
    return FeedFile(spec.name, path, spec.fmt, spec.profile, expected, changes)


def write_tier_feed(
    path: Path | str,
    n_skus: int,
    seed: int,
    fmt: str = "csv",
    malformed_fraction: float = 0.0,
) -> Expected:
    """Stream one dealer's feed of ``n_skus`` products to ``path`` (memory flat in ``n_skus``)."""
    rows = dealer.iter_tier_rows(n_skus, seed, malformed_fraction=malformed_fraction)
    return writers.write_feed(rows, path, fmt, merchant=dealer.dealer_style(0).name)
