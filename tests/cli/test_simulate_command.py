"""`tidal simulate`: a tiny day end to end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tidal.service.cli import app
from tidal.simulation.report import render

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
BASE = [
    "simulate",
    "--rules",
    str(ROOT / "rules"),
    "--models",
    str(ROOT / "models"),
    "--training-data",
    str(ROOT / "training" / "data"),
    "--conversations",
    "30",
    "--agents",
    "2",
]


def test_compare_writes_metrics_and_plots_and_ends_with_the_bench_line(tmp_path: Path) -> None:
    result = runner.invoke(app, [*BASE, "--compare", "fifo,adaptive", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(last) == [
        "bench",
        "engaged_median_wait_ratio",
        "p95_wait_ratio",
        "resolved_per_agent_hour_ratio",
        "utilization",
    ]
    assert last["bench"] == "simulate"
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert list(report["policies"]) == ["fifo", "adaptive", "adaptive-no-inactive"]
    assert report["comparison"]["baseline"] == "fifo"
    fifo_median = report["policies"]["fifo"]["wait_seconds"]["engaged"]["median"]
    adaptive_median = report["policies"]["adaptive"]["wait_seconds"]["engaged"]["median"]
    assert last["engaged_median_wait_ratio"] == round(adaptive_median / fifo_median, 4)
    for name in ("waits.png", "load_and_queue.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = render(report, None)
    assert "| engaged median wait, adaptive / FIFO ≤ 0.5 |" in page
    assert json.dumps(last) in page


def test_an_unknown_policy_is_a_usage_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, [*BASE, "--compare", "fifo,fastest", "--out", str(out)])
    assert result.exit_code == 2
    assert "unknown policy 'fastest'" in result.output
    assert not out.exists()


def test_a_single_policy_run_prints_no_bench_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, [*BASE, "--policy", "adaptive-2-4", "--out", str(tmp_path), "--no-plots"]
    )
    assert result.exit_code == 0, result.output
    assert '"bench"' not in result.stdout
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert report["policies"]["adaptive-2-4"]["policy"]["max_concurrency"] == 4
    assert not (tmp_path / "waits.png").exists()
