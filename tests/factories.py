"""Small builders for test data: ammunition rows, feed files, registered feeds."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from pipeline import registry
from pipeline.records import Offer

CSV_COLUMNS = (
    "sku",
    "title",
    "price",
    "upc",
    "availability",
    "brand",
    "caliber",
    "grain",
    "rounds",
)


def sku(n: int = 1, **overrides: Any) -> dict[str, str]:
    """One feed row for an ammunition SKU; ``n`` makes code and title unique."""
    row = {
        "sku": f"AMMO-{n:05d}",
        "title": f"Federal American Eagle 9mm Luger 115gr FMJ Lot {n} - 50 Rounds",
        "price": f"{15 + n % 10}.99",
        "upc": "",
        "availability": "in stock",
        "brand": "Federal",
        "caliber": "9mm",
        "grain": "115",
        "rounds": "50",
    }
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def csv_text(rows: list[dict[str, str]], columns: tuple[str, ...] = CSV_COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


def offer(**overrides: Any) -> Offer:
    values: dict[str, Any] = {
        "row_number": 1,
        "sku": "AMMO-1",
        "gtin": None,
        "title": "Federal 9mm Luger 115gr FMJ 50rd",
        "brand": "Federal",
        "mpn": None,
        "caliber": "9mm Luger",
        "grain": 115,
        "round_count": 50,
        "bullet_type": "FMJ",
        "case_type": "Brass",
        "price": Decimal("15.99"),
        "regular_price": None,
        "in_stock": True,
        "quantity": None,
        "url": None,
        "price_per_round": Decimal("0.3198"),
    }
    values.update(overrides)
    return Offer(**values)


async def make_feed(
    conn: asyncpg.Connection, source: str | Path, *, dealer: str = "Acme Ammo", **options: Any
) -> int:
    dealer_id = await registry.upsert_dealer(conn, dealer)
    return await registry.upsert_feed(
        conn, dealer_id=dealer_id, name=options.pop("name", "main"), source=str(source), **options
    )
