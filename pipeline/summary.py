"""Plain-text tables of feed runs for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

COLUMNS = (
    ("dealer", "dealer_name"),
    ("feed", "feed_name"),
    ("status", "status"),
    ("rows", "rows_total"),
    ("created", "created"),
    ("updated", "updated"),
    ("unchanged", "unchanged"),
    ("deactiv.", "deactivated"),
    ("quarant.", "quarantined"),
    ("KB", "bytes"),
)
PHASES = ("fetch", "parse_copy", "dedupe", "merge", "deactivate", "total")


def _cell(run: Mapping[str, Any], key: str) -> str:
    value = run[key]
    if key == "bytes":
        return f"{value / 1024:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def runs_table(runs: Sequence[Mapping[str, Any]]) -> str:
    """One line per feed run: counts, then milliseconds per phase, then any error."""
    headers = [h for h, _ in COLUMNS] + [f"{p} ms" for p in PHASES]
    body = []
    for run in runs:
        timings = run["timings"] or {}
        cells = [_cell(run, key) for _, key in COLUMNS]
        cells += [f"{timings[p]:,.0f}" if p in timings else "-" for p in PHASES]
        body.append(cells)
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    lines += [
        f"  {run['dealer_name']}/{run['feed_name']}: {run['error']}" for run in runs if run["error"]
    ]
    return "\n".join(lines)
