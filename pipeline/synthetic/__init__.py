"""Synthetic ammunition dealer feeds, reproducible from a seed.

Used by ``make demo``, the tests and ``make bench``. Every function draws from
its own ``random.Random`` seeded by its arguments (never the global one), so
the same arguments give the same bytes on every run.

    products = catalogue(4000, seed=7)                  # list[Product]
    rows, expected = dealer_rows(0, products, 3000, seed=7)
    rows2, changes = mutate(rows, seed=8, products=products)
    write_feed(rows2, "mga.csv", "csv")                 # -> Expected, streamed
    build_feed_set("feeds/", seed=7, version=1)         # the demo's five dealers
    write_tier_feed("100k.csv", 100_000, seed=1)        # the bench, flat memory

Modules: ``products`` (the catalogue), ``rows`` (dealer styles, malformed rows,
expected counts), ``mutation`` (version 2 of a feed), ``writers`` (csv, tsv,
json, jsonl, Google Merchant xml, ShareASale pipe), ``feedsets`` (demo and bench).
"""

from pipeline.synthetic.feedsets import (
    DealerSpec,
    FeedFile,
    build_feed_set,
    demo_catalogue,
    demo_dealers,
    write_tier_feed,
)
from pipeline.synthetic.mutation import Mutation, MutationSummary, mutate
from pipeline.synthetic.products import Product, catalogue, iter_catalogue
from pipeline.synthetic.rows import (
    DEFECTS,
    DealerFeed,
    DealerRow,
    Expected,
    dealer_rows,
    iter_dealer_rows,
    iter_tier_rows,
    summarize,
)
from pipeline.synthetic.writers import FORMATS, write_feed

__all__ = [
    "DEFECTS",
    "FORMATS",
    "DealerFeed",
    "DealerRow",
    "DealerSpec",
    "Expected",
    "FeedFile",
    "Mutation",
    "MutationSummary",
    "Product",
    "build_feed_set",
    "catalogue",
    "dealer_rows",
    "demo_catalogue",
    "demo_dealers",
    "iter_catalogue",
    "iter_dealer_rows",
    "iter_tier_rows",
    "mutate",
    "summarize",
    "write_feed",
    "write_tier_feed",
]
