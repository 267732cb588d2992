"""The bench's feeds: one dealer per tier, its changed versions, and its rivals.

For a tier of ``n`` SKUs (all from seed ``common.SEED``, so every run writes the
same bytes):

- ``tier-{n}-v1.csv``: the tier dealer's feed, ``n`` clean rows, one per product
  of the first ``n`` products of the catalogue (``synthetic.write_tier_feed``).
  No malformed rows, so that the raw ``COPY`` floor can load the same file;
- ``tier-{n}-1pct.csv``: v1 with every 100th price raised 5%;
- ``tier-{n}-10pct.csv``: the 1% version with every 10th price raised 5% more,
  so going from one to the other changes exactly 10% of the rows;
- ``tier-{n}-rival{i}.csv`` for three rivals: smaller dealers in other house
  styles (titles, SKU codes, markups), each carrying ``rival_skus(n)`` products
  (a quarter of the tier, 100 to 2,500) drawn from the tier's most common
  products (the first ``2 * rival_skus(n)`` of its catalogue), with 1% malformed
  rows as real feeds have. Every product there has 1.5 rivals on average: the
  tier dealer arrives in a market, benchmarks have several sellers and insights
  are real, while the rivals cost little to load.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from bench import common
from pipeline import synthetic

RIVALS = 3
RIVAL_MIN, RIVAL_MAX = 100, 2_500  # a rival carries a quarter of the tier, within these bounds


def rival_skus(n: int) -> int:
    return max(RIVAL_MIN, min(n // 4, RIVAL_MAX))


@dataclass(frozen=True, slots=True)
class TierFeeds:
    skus: int
    v1: Path
    pct1: Path
    pct10: Path
    rivals: tuple[Path, ...]

    @property
    def rival_skus(self) -> int:
        return rival_skus(self.skus)


def paths(n: int, out: Path) -> TierFeeds:
    stem = out / f"tier-{n}"
    rivals = tuple(Path(f"{stem}-rival{i}.csv") for i in range(1, RIVALS + 1))
    return TierFeeds(
        n, Path(f"{stem}-v1.csv"), Path(f"{stem}-1pct.csv"), Path(f"{stem}-10pct.csv"), rivals
    )


def write(n: int, out: Path) -> TierFeeds:
    """Write every file of tier ``n`` under ``out`` (streamed: flat memory in ``n``)."""
    out.mkdir(parents=True, exist_ok=True)
    feeds = paths(n, out)
    synthetic.write_tier_feed(feeds.v1, n, common.SEED)
    common.reprice(feeds.v1, feeds.pct1, every=100)
    common.reprice(feeds.pct1, feeds.pct10, every=10)
    popular = min(n, 2 * feeds.rival_skus)  # the catalogue's stream does not depend on its length
    products = list(itertools.islice(synthetic.iter_catalogue(n, common.SEED), popular))
    for index, path in enumerate(feeds.rivals, start=1):
        rows = synthetic.iter_dealer_rows(
            index, products, feeds.rival_skus, common.SEED, malformed_fraction=0.01
        )
        synthetic.write_feed(rows, path, "csv")
    return feeds
