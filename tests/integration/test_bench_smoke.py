"""The bench harness runs: a 150-SKU tier through the real worker, its report and chart.

This checks that ``make bench`` works, never how fast anything is.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import feeds, page, report, run, tier


async def test_a_tiny_tier_runs_end_to_end_and_reports(dsn: str, tmp_path: Path) -> None:
    files = feeds.write(150, tmp_path / "feeds")

    raw = await tier.repetition(dsn, files, naive=True)

    assert raw["market"]["ok"] and raw["market"]["skus"] > 0
    assert set(raw["phases"]) == set(tier.PHASES)
    first = raw["phases"]["first_load"]
    assert first["ok"] and first["insights"]["tier"] > 0
    assert set(first["jobs"]) == {"ingest", "match", "benchmark", "insight"}
    assert first["statements"]["sql"] > 0 and first["statements"]["copy"] >= 1
    assert first["statements"]["queue"] > 0 and first["slowest_statements"]
    assert raw["phases"]["unchanged"]["run"]["status"] == "UNCHANGED"
    assert raw["phases"]["changed_10pct"]["run"]["updated"] > 0
    assert raw["floor_ms"] > 0 and raw["naive_ms"] > 0

    measured = {"skus": 150, "bytes": files.v1.stat().st_size, "rivals": 3,
                "rival_skus": files.rival_skus, "repetitions": [raw],
                "rss_start_mb": 1.0, "peak_rss_mb": 2.0}  # fmt: skip
    facts = {"command": "test", "started": "now", "wall_seconds": 1.0, "worker_concurrency": 1,
             "repeat_note": "1 repetition", "postgres": {"version": "x", "settings": {}},
             "machine": {"cores": 2, "memory_gib": 1, "arch": "x", "os": "x", "python": "3",
                         "load_avg_1m": 0}}  # fmt: skip
    results = run.build([measured], facts, profile=None)
    run.write_results(results, tmp_path)

    summary = results["tiers"][0]
    assert summary["ok"] and summary["phases"]["first_load"]["seconds"]["median"] > 0
    assert {t["target"] for t in results["targets"]} >= {
        "reference: 150 SKUs end to end < 5 s",
        "project: unchanged re-poll < 0.1 s (slowest tier)",
    }
    assert json.loads((tmp_path / "results.json").read_text())["tiers"][0]["skus"] == 150
    assert "| 150 |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.markdown(results).count("## ") >= 5 and report.REFERENCE[150] == 5
