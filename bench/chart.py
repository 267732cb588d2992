"""bench/results.png: seconds against SKUs, log-log: the pipeline, the floor, the naive way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import report


def draw(tiers: list[dict[str, Any]], path: Path, *, title: str) -> None:
    """Three lines (pipeline end to end, raw COPY, naive upserts) and the reference targets."""
    import matplotlib  # the `bench` extra; imported here so that the rest needs none of it

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    done = report.finished(tiers)
    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    _pipeline(ax, done, [t for t in tiers if not t["finished"]])
    ax.plot([t["skus"] for t in done], [t["floor_ms"]["median"] / 1000 for t in done],
            marker="s", color="tab:green", label="floor: raw COPY into a bare table")  # fmt: skip
    _naive(ax, done)
    sizes = [t["skus"] for t in tiers]
    ref = [(n, s) for n, s in report.REFERENCE.items() if min(sizes) <= n <= max(sizes)]
    if ref:
        ax.scatter([n for n, _ in ref], [s for _, s in ref], marker="_", s=300, color="black",
                   label="reference target per tier")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("SKUs in the dealer's feed")
    ax.set_ylabel("seconds")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _pipeline(ax: Any, done: list[dict[str, Any]], stopped: list[dict[str, Any]]) -> None:
    """Median first loads with their min-max; a tier that was stopped as a lower bound."""
    first = [t["phases"]["first_load"]["seconds"] for t in done]
    medians = [s["median"] for s in first]
    spread = [[s["median"] - s["min"] for s in first], [s["max"] - s["median"] for s in first]]
    label = "this pipeline, end to end (first load, median, min-max)"
    ax.errorbar([t["skus"] for t in done], medians, yerr=spread, marker="o", capsize=3,
                color="tab:blue", label=label)  # fmt: skip
    if stopped:
        label = "this pipeline: stopped before the end (at least)"
        ax.scatter([t["skus"] for t in stopped], [t["stopped"]["after_s"] for t in stopped],
                   marker="^", s=80, color="tab:blue", label=label)  # fmt: skip


def _naive(ax: Any, tiers: list[dict[str, Any]]) -> None:
    measured = [(t["skus"], t["naive_ms"]["median"] / 1000) for t in tiers
                if t["naive_ms"] and not t["naive_extrapolated"]]  # fmt: skip
    guessed = [(t["skus"], t["naive_ms"]["median"] / 1000) for t in tiers
               if t["naive_ms"] and t["naive_extrapolated"]]  # fmt: skip
    if measured:
        ax.plot(*zip(*measured, strict=True), marker="^", color="tab:red",
                label="naive: one INSERT ... ON CONFLICT per row")  # fmt: skip
    if guessed:
        joined = measured[-1:] + guessed
        ax.plot(*zip(*joined, strict=True), marker="^", linestyle="--", color="tab:red",
                markerfacecolor="none", label="naive, extrapolated")  # fmt: skip
