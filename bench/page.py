"""bench/results.md: the tables, the targets, and the closing note."""

from __future__ import annotations

from typing import Any

from bench import report

INGEST = set(report.INGEST_PHASES)
LABELS = {
    "ingest_other": "ingest: the rest (run record, feed hash, commit, defer)",
    "queue_and_worker": "queue and worker, between jobs",
}
HOW = """\
## How it was measured

- **Feeds.** Synthetic ammunition feeds from `pipeline.synthetic`, seed 11, CSV:
  the tier dealer carries one SKU per product of the first N products of the
  catalogue, with no malformed row (so that the raw `COPY` floor can load the
  very same file). Three smaller rivals in other house styles (a quarter of
  the tier, 100 to 2,500 SKUs each, 1% malformed rows) carry the tier's most
  common products, and are loaded through the worker before the clock starts,
  so that the tier dealer arrives in a market: its benchmarks have several
  sellers and its insights are real. Feeds are served by a local aiohttp
  server in the bench process; the 1% and 10% versions raise every 100th,
  then every 10th price by 5%.
- **End to end.** Each tier runs in its own process (so its peak RSS is its
  own), each repetition on a fresh database cloned from a migrated template.
  The clock starts before the tier dealer's ingest job is deferred (in a
  transaction, as the scheduler does) and stops when the real procrastinate
  worker (`run_worker_async(wait=False)`, the app's own concurrency), has run
  every job that caused: ingest, match, benchmark, and the insight jobs of the
  tier dealer and of every rival whose products moved. Every job must succeed
  and the tier dealer must have insights, or the tier is marked not OK.
  The unchanged re-poll sends the same bytes; the server answers 304.
- **Statements.** `sql` counts what the stages send on the pipeline's asyncpg
  pool (an asyncpg query logger on every connection: each execute/fetch and
  each BEGIN, COMMIT, SAVEPOINT counts one); `copy` counts COPY operations on
  it (one COPY carries a batch of up to 5,000 rows); `queue` counts
  procrastinate's own statements (fetch, finish and defer of jobs, worker
  registration). Connection set-up (type introspection) is not counted.
- **Floor.** `COPY ... FROM STDIN (FORMAT csv)` of the tier's file into a bare
  table of text columns, no index, in the same database, right after.
- **Naive.** The old way: the CSV read row by row and one
  `INSERT ... ON CONFLICT (sku) DO UPDATE` per row, each its own round trip
  and commit, into a table of text columns with one unique index. It is given
  every advantage (no normalization, no hashing, no history). Measured up to
  5,000 SKUs; bigger tiers are extrapolated from the largest measured tier's
  rate and marked *extrapolated*.
- **Ratios.** "first load" is end to end (ingest, match, benchmark, insights
  of every dealer touched); "ingest" is the ingest job alone, the part that
  does what the floor and the naive way do (load the rows). The naive way
  does nothing else, so "first load / naive" compares the whole pipeline with
  a bare load, and "ingest / naive" compares like with like.
- **Statistics.** After the rivals are loaded the database is ANALYZEd, as a
  database that has been running has statistics; the tier dealer's SKUs are
  new to them when its first feed lands, as in production.
- **Stopping.** A phase that runs past twice its first-load target (at least
  30 s), or past the time the run's budget leaves the tier, is stopped: the
  table says what its jobs and statements were doing, and the target counts
  as missed with the time it had taken as a lower bound.
- **Peak RSS** is `ru_maxrss` of the tier's processes (one per repetition):
  the worker, the feed server and the bench, the highest of them.
"""


def _s(stats: dict[str, float]) -> str:
    return f"{stats['median']:,.3f} ({stats['min']:,.3f}-{stats['max']:,.3f})"


def _ms(stats: dict[str, float]) -> str:
    return f"{stats['median'] / 1000:,.3f}"


def _naive(tier: dict[str, Any]) -> str:
    if tier["naive_ms"] is None:
        return "n/a"
    text = _ms(tier["naive_ms"])
    return f"{text} *extrapolated*" if tier["naive_extrapolated"] else text


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _statements(stats: dict[str, int]) -> str:
    return f"{stats['sql']} + {stats['copy']} COPY / {stats['queue']}"


def first_load_table(tiers: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| SKUs | first load s, median (min-max) | ms/SKU | ingest job s | floor: raw COPY s "
        "| naive s | first load / floor | ingest / floor | first load / naive | ingest / naive "
        "| peak RSS MB | statements: sql + COPY / queue | insights (tier / market) | OK |",
        "|" + " ---: |" * 13 + " :-: |",
    ]  # fmt: skip
    for t in tiers:
        if not t["finished"]:
            lines.append(f"| {t['skus']:,} | **{report.headline(t)}** |" + " |" * 11 + " **no** |")
            continue
        first = t["phases"]["first_load"]
        lines.append(
            f"| {t['skus']:,} | {_s(first['seconds'])} | {first['ms_per_sku']:.3f} "
            f"| {t['ingest_seconds']:,.3f} | {_ms(t['floor_ms'])} | {_naive(t)} "
            f"| {t['e2e_vs_floor']:,.0f}x | {t['ingest_vs_floor']:,.1f}x "
            f"| {_ratio(t.get('e2e_vs_naive'))} | {_ratio(t.get('ingest_vs_naive'))} "
            f"| {t['peak_rss_mb']:,.0f} | {_statements(first['statements'])} "
            f"| {t['insights']['tier']:,} / {t['insights']['market']:,} "
            f"| {'yes' if t['ok'] and t['market_ok'] else '**no**'} |"
        )
    return lines


def repoll_table(tiers: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| SKUs | unchanged s | statements | 1% changed s | statements "
        "| 10% changed s | statements |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]  # fmt: skip
    for t in report.finished(tiers):
        p = t["phases"]
        cells = [
            f"{_s(p[k]['seconds'])} | {_statements(p[k]['statements'])}"
            for k in ("unchanged", "changed_1pct", "changed_10pct")
        ]
        lines.append(f"| {t['skus']:,} | " + " | ".join(cells) + " |")
    return lines


def tasks_table(tiers: list[dict[str, Any]]) -> list[str]:
    """Seconds per job kind, median, for the first load and the 10% re-poll."""
    lines = [
        "| SKUs | phase | ingest | match | benchmark | insight (all dealers) | between jobs |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in report.finished(tiers):
        for phase in ("first_load", "changed_10pct"):
            p = t["phases"][phase]
            jobs = sum(p["tasks"].values())
            between = max(0.0, p["seconds"]["median"] - jobs)
            cells = " | ".join(f"{p['tasks'][k]:,.3f}" for k in report.TASKS)
            lines.append(f"| {t['skus']:,} | {phase} | {cells} | {between:,.3f} |")
    return lines


def targets_table(checks: list[dict[str, Any]]) -> list[str]:
    lines = ["| target | measured | verdict |", "| --- | ---: | --- |"]
    for c in checks:
        note = f" ({c['note']})" if c["note"] else ""
        verdict = "met" if c["met"] else f"**missed**: {c['by']}"
        lines.append(f"| {c['target']} | {c['value']:,.3f} {c['unit']}{note} | {verdict} |")
    return lines


def breakdown(tier: dict[str, Any]) -> list[str]:
    parts = tier["first_load_breakdown"]
    total = tier["phases"]["first_load"]["seconds"]["median"]
    lines = [
        f"First load of {tier['skus']:,} SKUs, {total:,.2f} s end to end (median):", "",
        "| where | seconds | share |", "| --- | ---: | ---: |",
    ]  # fmt: skip
    for name, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        share = seconds / total * 100 if total else 0
        label = LABELS.get(name) or (f"ingest: {name}" if name in INGEST else f"{name} jobs")
        lines.append(f"| {label} | {seconds:,.3f} | {share:.0f}% |")
    return lines


def statements_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| statement | calls | seconds |", "| --- | ---: | ---: |"]
    return lines + [f"| `{r['statement']}` | {r['calls']} | {r['seconds']:,.3f} |" for r in rows]


def closing_note(
    tiers: list[dict[str, Any]], checks: list[dict[str, Any]], profile: str | None
) -> list[str]:
    missed = [c for c in checks if not c["met"]]
    lines = ["## Closing note", ""]
    if not missed:
        return [*lines, "Every target was met on this run.", ""]
    lines += ["Missed on this run:", ""]
    lines += [f"- {c['target']}: {c['value']:,.3f} {c['unit']}, {c['by']}." for c in missed]
    lines += stopped_tiers(tiers)
    done = report.finished(tiers)
    if done:
        lines += where_time_goes(max(done, key=lambda t: t["skus"]))
    if profile:
        lines += ["", "### Profile of the slowest phase", "", "```", profile.rstrip(), "```"]
    return [*lines, ""]


def stopped_tiers(tiers: list[dict[str, Any]]) -> list[str]:
    lines = []
    for t in tiers:
        if not t["stopped"]:
            continue
        stop = t["stopped"]
        lines += ["", f"### The {t['skus']:,}-SKU tier was stopped", "",
                  f"Its {stop['phase']} was stopped after {stop['after_s']:,.0f} s: "
                  f"{report.doing(stop)}.", ""]  # fmt: skip
        finished = stop["diagnosis"].get("slowest_statements")
        if finished:
            lines += ["Its statements that had finished by then:", "", *statements_table(finished)]
    return lines


def where_time_goes(tier: dict[str, Any]) -> list[str]:
    parts = tier["first_load_breakdown"]
    total = tier["phases"]["first_load"]["seconds"]["median"]
    lines = ["", "### Where the time goes", "", *breakdown(tier), ""]
    lines += [f"The largest parts of the {tier['skus']:,}-SKU first load:", ""]
    for name, seconds in sorted(parts.items(), key=lambda kv: -kv[1])[:3]:
        if seconds > 0 and name in report.ADVICE:
            lines.append(f"- **{name}**, {seconds:,.2f} s ({seconds / total:.0%}): "
                         f"{report.ADVICE[name]}.")  # fmt: skip
    lines += ["", "Its slowest statements (database side, every job of the phase):", ""]
    return lines + statements_table(tier["first_load_slowest"])


def markdown(results: dict[str, Any]) -> str:
    tiers, facts = results["tiers"], results["facts"]
    m, pg = facts["machine"], facts["postgres"]
    settings = ", ".join(f"{k}={v}" for k, v in sorted(pg["settings"].items()))
    lines = [
        "# Benchmark results", "",
        f"`{facts['command']}`, {facts['started']}, {facts['wall_seconds']:,.0f} s in all. "
        f"{m['cores']} cores, {m['memory_gib']} GiB, {m['arch']}, {m['os']}, Python {m['python']} "
        f"(load average {m['load_avg_1m']} at the start); PostgreSQL {pg['version']} ({settings}); "
        f"worker concurrency {facts['worker_concurrency']}; {facts['repeat_note']}.", "",
        "## End to end: first load, against the floor and the naive way", "",
        *first_load_table(tiers), "",
        "## Re-polls, end to end", "",
        *repoll_table(tiers), "",
        "## Seconds per job kind", "",
        *tasks_table(tiers), "",
        "## Targets", "",
        *targets_table(results["targets"]), "",
        *closing_note(tiers, results["targets"], results.get("profile")),
        HOW,
    ]  # fmt: skip
    return "\n".join(lines)
