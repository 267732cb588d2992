"""From the tiers' raw measurements to bench/results.json and bench/results.md.

``summarize`` reduces one tier's repetitions to medians and spreads;
``extrapolate_naive`` fills in the naive way for tiers too big to wait for;
``targets`` checks the reference and the project's own targets; ``markdown``
writes the page, closing with what missed and where the time went.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from bench import common

PHASES = ("first_load", "unchanged", "changed_1pct", "changed_10pct")
TASKS = ("ingest", "match", "benchmark", "insight")
INGEST_PHASES = ("fetch", "parse_copy", "dedupe", "merge", "deactivate")
# The reference dealer tiers' first loads, end to end, in seconds.
REFERENCE = {150: 5, 800: 10, 3_000: 20, 5_000: 30, 10_000: 45, 25_900: 60}
MS_PER_ROW = 10
E2E_TARGETS = {10_000: 2.0, 100_000: 15.0}  # the project's own, in seconds
UNCHANGED_S = 0.1
INGEST_VS_FLOOR = 4.0
RSS_CEILING_MB = 300  # "a few hundred MB" at the largest tier
RSS_GROWTH_MB = 50  # "flat": the largest tier may use at most this much more than the smallest

# Where a first load's time can go, what was found there while writing the bench, and
# what would shrink it. The statement table and the profile of each run say which applies.
ADVICE = {
    "match": (
        "on a first load every SKU of the dealer is new: each matching step joins all of "
        "them against the catalogue, and most of them create products. Its statements are "
        "planned from statistics taken before those SKUs existed (match starts milliseconds "
        "after the ingest commits), so a join that relies on estimates turns into nested "
        "loops, quadratic in the dealer's SKUs: `match.create_products` took 425 s at "
        "25,900 SKUs for that reason until commit 724de26 made it n log n (1.4 s). The "
        "statement table says which step dominates now"
    ),
    "parse_copy": (
        "Python, row by row: the profile of a 10,000-SKU load puts about 40% of it in "
        "normalizing, 25% in CSV parsing, 15% in the three hashes and 10% in buffering rows "
        "for the binary COPY, some 70 us a row in all. The raw COPY of the same file costs "
        "under 3 us a row, so ingest within 4x of it cannot be reached by tuning this loop: "
        "it needs the raw text COPYed into staging and normalized set-based in SQL (or the "
        "normalizer compiled), and parsing overlapped with the COPY of the previous batch"
    ),
    "merge": (
        "the set-based merge into dealer_skus: every new row maintains seven indexes and "
        "the benchmark trigger, and appends price history. It would close with fewer "
        "partial indexes touched on insert"
    ),
    "benchmark": (
        "one `benchmark.benchmark_page` per 1,000 dirty products, each reading every offer "
        "of its products; on a first load every product of the tier is dirty. It would "
        "close with bigger pages when many products are dirty, and current statistics "
        "(its joins are planned from the same stale estimates as match's)"
    ),
    "insight": (
        "`insight.refresh_insights` for the tier dealer is planned from statistics that "
        "predate its SKUs: nested loops over its CTEs, quadratic in the dealer's SKUs (at "
        "3,000 SKUs, 4.5 s and 6.7 million row pairs compared; 23 ms after `ANALYZE`). "
        "Whether autovacuum has analyzed dealer_skus by the time the insight job runs "
        "decides it, so the same load takes a few seconds or minutes (25,900 SKUs: 84 s in "
        "one run, under 9 s in another). An `ANALYZE dealer_skus` after a large ingest or "
        "match closes it for good; joins that do not rely on estimates would too"
    ),
    "queue_and_worker": (
        "the queue and the worker between jobs (fetching, finishing, deferring). It would "
        "close with a worker that listens for notifications instead of polling"
    ),
}


def first_load_target(n: int) -> float:
    """Seconds: the reference target of tier ``n``, else the project's, else 10 ms a SKU."""
    return float(REFERENCE.get(n) or E2E_TARGETS.get(n) or n * MS_PER_ROW / 1000)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def _phase(n: int, samples: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [s["seconds"] for s in samples]
    tasks = {t: round(_median([s["jobs"].get(t, {}).get("seconds", 0.0) for s in samples]), 4)
             for t in TASKS}  # fmt: skip
    statements = {k: int(_median([s["statements"][k] for s in samples]))
                  for k in samples[0]["statements"]}  # fmt: skip
    return {
        "seconds": common.spread(seconds, 3),
        "ms_per_sku": round(_median(seconds) * 1000 / n, 4),
        "tasks": tasks,
        "statements": statements,
        "ok": all(s["ok"] for s in samples),
    }


def _breakdown(first: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds of the first load, by ingest phase, by downstream task, and between jobs."""
    out = {
        name: round(_median([s["run"]["timings"].get(name, 0.0) for s in first]) / 1000, 3)
        for name in INGEST_PHASES
    }
    ingest_job = _median([s["jobs"]["ingest"]["seconds"] for s in first])
    out["ingest_other"] = round(max(0.0, ingest_job - sum(out.values())), 3)
    for task in TASKS[1:]:
        out[task] = round(_median([s["jobs"].get(task, {}).get("seconds", 0.0) for s in first]), 3)
    jobs = _median([sum(j["seconds"] for j in s["jobs"].values()) for s in first])
    out["queue_and_worker"] = round(max(0.0, _median([s["seconds"] for s in first]) - jobs), 3)
    return out


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """One tier's repetitions reduced to medians and spreads."""
    n, every = raw["skus"], raw["repetitions"]
    reps = [r for r in every if not r["stopped"]]
    stopped = next((r["stopped"] for r in every if r["stopped"]), raw.get("stopped"))
    if not reps:
        assert stopped is not None, "a tier without a finished repetition was stopped"
        return _unfinished(raw, stopped)
    phases = {p: _phase(n, [r["phases"][p] for r in reps]) for p in PHASES}
    first = [r["phases"]["first_load"] for r in reps]
    floor = common.spread([r["floor_ms"] for r in reps], 2)
    naive_ms = [r["naive_ms"] for r in reps if r["naive_ms"] is not None]
    ingest_s = _median([s["jobs"]["ingest"]["seconds"] for s in first])
    e2e = phases["first_load"]["seconds"]["median"]
    insights = first[-1]["insights"]
    return {
        "skus": n,
        "bytes": raw["bytes"],
        "rivals": raw["rivals"],
        "rival_skus": raw["rival_skus"],
        "repetitions": len(reps),
        "phases": phases,
        "first_load_breakdown": _breakdown(first),
        "first_load_slowest": first[0]["slowest_statements"],
        "ingest_seconds": round(ingest_s, 3),
        "floor_ms": floor,
        "naive_ms": common.spread(naive_ms, 1) if naive_ms else None,
        "naive_extrapolated": False,
        "e2e_vs_floor": round(e2e * 1000 / floor["median"], 1),
        "ingest_vs_floor": round(ingest_s * 1000 / floor["median"], 1),
        "insights": insights,
        "market_ok": all(r["market"]["ok"] for r in reps),
        "ok": all(p["ok"] for p in phases.values()) and insights["tier"] > 0,
        "rss_start_mb": raw["rss_start_mb"],
        "peak_rss_mb": raw["peak_rss_mb"],
        "finished": True,
        "stopped": stopped,
    }


def _unfinished(raw: dict[str, Any], stopped: dict[str, Any]) -> dict[str, Any]:
    """A tier stopped before its first repetition ended: what it was doing."""
    return {
        "skus": raw["skus"], "bytes": raw["bytes"], "rivals": raw["rivals"],
        "rival_skus": raw["rival_skus"], "repetitions": 0, "finished": False,
        "stopped": stopped, "ok": False, "market_ok": False,
        "peak_rss_mb": raw["peak_rss_mb"], "naive_ms": None, "naive_extrapolated": False,
    }  # fmt: skip


def doing(stopped: dict[str, Any]) -> str:
    """``stopped``'s diagnosis in a line: the jobs done and running, the statements running."""
    diagnosis = stopped["diagnosis"]
    parts = []
    for task, job in diagnosis["jobs"].items():
        state = "running" if "doing" in job["status"] else "/".join(job["status"])
        parts.append(f"{task} {state} {job['seconds']:,.1f} s")
    running = [f"{r['statement']} running for {r['seconds']:,.0f} s" for r in diagnosis["running"]]
    text = ", ".join(parts) or "no job started"
    return text + (f"; {', '.join(running)}" if running else "")


def headline(tier: dict[str, Any]) -> str:
    if not tier["finished"]:
        stop = tier["stopped"]
        return f"{stop['phase']} stopped after {stop['after_s']:,.0f} s ({doing(stop)})"
    first = tier["phases"]["first_load"]["seconds"]["median"]
    stopped = f", stopped in repetition {tier['repetitions'] + 1}" if tier["stopped"] else ""
    return f"first load {first:8.3f} s, {tier['repetitions']} repetition(s){stopped}"


def finished(tiers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for t in tiers if t["finished"]]


def extrapolate_naive(tiers: list[dict[str, Any]]) -> None:
    """Tiers without a naive measurement get the largest measured tier's rate, labelled."""
    measured = [t for t in tiers if t["naive_ms"] and not t["naive_extrapolated"]]
    if not measured:
        return
    base = max(measured, key=lambda t: t["skus"])
    per_row = base["naive_ms"]["median"] / base["skus"]
    for tier in finished(tiers):
        if tier["naive_ms"] is None:
            tier["naive_ms"] = {"median": round(per_row * tier["skus"], 1)}
            tier["naive_extrapolated"] = True
            tier["naive_from"] = base["skus"]
    for tier in finished(tiers):
        naive = tier["naive_ms"]["median"]
        tier["e2e_vs_naive"] = round(
            tier["phases"]["first_load"]["seconds"]["median"] * 1000 / naive, 2
        )
        tier["ingest_vs_naive"] = round(tier["ingest_seconds"] * 1000 / naive, 2)


def _target(name: str, value: float, limit: float, unit: str, note: str = "") -> dict[str, Any]:
    """``note`` == ``UNFINISHED``: ``value`` is only a lower bound, and the target is missed."""
    met = value <= limit and note != UNFINISHED
    by = f"missed by {value - limit:,.3g} {unit} ({value / limit:.1f}x the target)"
    if note == UNFINISHED:
        by = f"stopped after {value:,.3g} {unit} ({value / limit:.1f}x the target) before the end"
    by = "" if met else by
    return {"target": name, "value": value, "limit": limit, "unit": unit, "met": met,
            "by": by, "note": note}  # fmt: skip


UNFINISHED = "did not finish: at least this"


def _lower_bound(n: int, unfinished: set[int]) -> str:
    return UNFINISHED if n in unfinished else ""


def targets(every: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target against this run. A tier that did not finish a first load counts as
    having taken the time it was given (a lower bound), and misses."""
    tiers = finished(every)
    first = {t["skus"]: t["phases"]["first_load"]["seconds"]["median"] for t in tiers}
    first |= {t["skus"]: t["stopped"]["after_s"] for t in every if not t["finished"]}
    unfinished = {t["skus"] for t in every if not t["finished"]}
    out = []
    for n, limit in REFERENCE.items():
        if n in first:
            name = f"reference: {n:,} SKUs end to end < {limit} s"
            out.append(_target(name, first[n], limit, "s", _lower_bound(n, unfinished)))
    worst = max(tiers, key=lambda t: t["phases"]["first_load"]["ms_per_sku"])
    out.append(_target(
        f"reference: under {MS_PER_ROW} ms per SKU (worst tier)",
        worst["phases"]["first_load"]["ms_per_sku"], MS_PER_ROW, "ms", f"{worst['skus']:,} SKUs",
    ))  # fmt: skip
    for skus, seconds in E2E_TARGETS.items():
        if skus in first:
            name = f"project: {skus:,} SKUs end to end < {seconds:g} s"
            out.append(_target(name, first[skus], seconds, "s", _lower_bound(skus, unfinished)))
    slow = max(tiers, key=lambda t: t["phases"]["unchanged"]["seconds"]["median"])
    out.append(_target(
        f"project: unchanged re-poll < {UNCHANGED_S} s (slowest tier)",
        slow["phases"]["unchanged"]["seconds"]["median"], UNCHANGED_S, "s",
        f"{slow['skus']:,} SKUs",
    ))  # fmt: skip
    far = max(tiers, key=lambda t: t["ingest_vs_floor"])
    out.append(_target(
        f"project: first-load ingest within {INGEST_VS_FLOOR:g}x raw COPY (worst tier)",
        far["ingest_vs_floor"], INGEST_VS_FLOOR, "x", f"{far['skus']:,} SKUs",
    ))  # fmt: skip
    small, big = min(tiers, key=lambda t: t["skus"]), max(tiers, key=lambda t: t["skus"])
    out.append(_target(
        f"project: peak RSS at the largest tier <= {RSS_CEILING_MB} MB",
        big["peak_rss_mb"], RSS_CEILING_MB, "MB", f"{big['skus']:,} SKUs",
    ))  # fmt: skip
    out.append(_target(
        f"project: memory flat (largest minus smallest tier's peak RSS <= {RSS_GROWTH_MB} MB)",
        round(big["peak_rss_mb"] - small["peak_rss_mb"], 1), RSS_GROWTH_MB, "MB",
        f"{small['skus']:,} -> {big['skus']:,} SKUs",
    ))  # fmt: skip
    return out
