"""The next version of a feed: some prices and stock move, some SKUs go, a few arrive.

``mutate`` changes disjoint sets of good rows, so every changed SKU has exactly
one kind of change (price or stock) and tests can check ``last_change_type``.
Malformed rows, and SKUs that a duplicate row repeats, are left as they were.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from pipeline.synthetic import rows as dealer
from pipeline.synthetic.products import Product
from pipeline.synthetic.rows import DealerRow, Expected, RowMaker, summarize


@dataclass(frozen=True, slots=True)
class MutationSummary:
    """Which SKUs the new version changed, by kind (each SKU in at most one set)."""

    price_changed: frozenset[str]
    stock_changed: frozenset[str]
    removed: frozenset[str]
    added: frozenset[str]
    expected: Expected  # counts for the new version's rows

    @property
    def unchanged(self) -> int:
        """Valid rows carried over untouched."""
        moved = len(self.price_changed) + len(self.stock_changed) + len(self.added)
        return self.expected.valid - moved

    def counts(self) -> dict[str, int]:
        return {
            "price_changed": len(self.price_changed), "stock_changed": len(self.stock_changed),
            "removed": len(self.removed), "added": len(self.added), "unchanged": self.unchanged,
        }  # fmt: skip


class Mutation(NamedTuple):
    rows: list[DealerRow]
    summary: MutationSummary


def mutate(
    rows: Sequence[DealerRow],
    seed: int,
    *,
    change_fraction: float = 0.10,
    remove_fraction: float = 0.02,
    add_count: int | None = None,
    products: Sequence[Product],
) -> Mutation:
    """The next version of ``rows``.

    ``round(valid * change_fraction)`` good rows change (half price, half stock),
    ``round(valid * remove_fraction)`` others disappear, and ``add_count`` new
    SKUs (default 1% of valid rows, at least one) are appended: products of the
    catalogue ``products`` the dealer does not carry yet, else case packs.
    """
    rng = random.Random(f"mutate:{seed}")
    candidates = _changeable(rows)
    n_change = round(len(candidates) * change_fraction)
    n_remove = round(len(candidates) * remove_fraction)
    chosen = rng.sample(candidates, min(n_change + n_remove, len(candidates)))
    price = {rows[i].sku for i in chosen[: (n_change + 1) // 2]}
    stock = {rows[i].sku for i in chosen[(n_change + 1) // 2 : n_change]}
    removed = {rows[i].sku for i in chosen[n_change:]}
    out = [_changed(rng, row, price, stock) for row in rows if row.defect or row.sku not in removed]
    if add_count is None:
        add_count = max(1, round(len(candidates) * 0.01))
    added = _additions(rng, rows, products, add_count, seed)
    out.extend(added)
    summary = MutationSummary(
        frozenset(price), frozenset(stock), frozenset(removed),
        frozenset(row.sku for row in added), summarize(out),
    )  # fmt: skip
    return Mutation(out, summary)


def _changeable(rows: Sequence[DealerRow]) -> list[int]:
    """Indexes of good rows whose SKU appears exactly once in the feed."""
    uses = Counter(row.sku for row in rows)
    return [i for i, row in enumerate(rows) if row.defect is None and uses[row.sku] == 1]


def _changed(rng: random.Random, row: DealerRow, price: set[str], stock: set[str]) -> DealerRow:
    if row.defect is not None:
        return row
    if row.sku in price:
        return _reprice(rng, row)
    if row.sku in stock:
        in_stock = not row.in_stock
        return replace(row, in_stock=in_stock, quantity=rng.randint(1, 400) if in_stock else 0)
    return row


def _reprice(rng: random.Random, row: DealerRow) -> DealerRow:
    """Move the price 3-15% up or down (never to the same cents); a sale price moves along."""
    factor = rng.uniform(1.03, 1.15) if rng.random() < 0.5 else rng.uniform(0.85, 0.97)
    cents = dealer.cents_of(row.price)
    new = max(1, round(cents * factor))
    if new == cents:
        new = cents + 1
    sale = _scaled(row.sale_price, factor) if row.sale_price else ""
    return replace(row, price=dealer.money(new), sale_price=sale)


def _scaled(price: str, factor: float) -> str:
    return dealer.money(max(1, round(dealer.cents_of(price) * factor)))


def _additions(
    rng: random.Random,
    rows: Sequence[DealerRow],
    products: Sequence[Product],
    count: int,
    seed: int,
) -> list[DealerRow]:
    """``count`` rows with SKU codes the feed does not use yet, in the dealer's style."""
    if not rows or not products or count <= 0:
        return []
    carried = {row.product_gtin for row in rows}
    fresh = [p for p in products if p.gtin not in carried]
    picks = [(p, False) for p in rng.sample(fresh, min(count, len(fresh)))]
    picks += [(rng.choice(products), True) for _ in range(count - len(picks))]
    maker = RowMaker(rows[0].dealer_index, seed, rng, first_number=len(rows))
    taken = {row.sku for row in rows}
    return [maker.fresh_row(product, pack, taken) for product, pack in picks]
