"""`tidal rules check` and `tidal rules test`: output and exit codes (0 ok, 1 invalid, 2 usage)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidal.engine.classify.loading import load_rules
from tidal.service.cli import app

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"
runner = CliRunner()


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, target)
    return target


def test_check_of_shipped_rules_says_files_ok(rules_dir: Path) -> None:
    result = runner.invoke(app, ["rules", "check", str(rules_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("5 files OK")


def test_check_prints_every_error_with_path_and_line_and_exits_1(rules_dir: Path) -> None:
    routing = rules_dir / "routing.yaml"
    routing.write_text(routing.read_text(encoding="utf-8") + "mystery: true\n", encoding="utf-8")
    (rules_dir / "intents" / "extra.yaml").write_text(
        "rules:\n"
        "  - id: broken\n"
        "    direction: inbound\n"
        "    intent: gratitude\n"
        "    scope: whole\n"
        "    patterns:\n"
        "      - [{LOWER: thanks, OP: '??'}]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["rules", "check", str(rules_dir)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith(f"{routing}:") and "[T003]" in line for line in lines)
    assert f"{rules_dir / 'intents' / 'extra.yaml'}:7: [T007] patterns.0: token 0 OP" in (
        result.stderr
    )
    assert result.stdout == ""


def test_check_of_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rules", "check", str(tmp_path / "absent")])
    assert result.exit_code == 2


def test_unknown_option_is_a_usage_error(rules_dir: Path) -> None:
    result = runner.invoke(app, ["rules", "check", str(rules_dir), "--colour"])
    assert result.exit_code == 2


def test_rule_tests_pass_on_shipped_rules_with_rules_alone(rules_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["rules", "test", str(rules_dir), "--models", str(tmp_path / "no-models")]
    )
    assert result.exit_code == 0, result.output
    assert "rule test cases passed" in result.stdout


def test_failing_rule_test_case_is_shown_in_a_table_and_exits_1(
    rules_dir: Path, tmp_path: Path
) -> None:
    (rules_dir / "intents" / "zz-extra.yaml").write_text(
        "rules:\n"
        "  - {id: hi-rule, direction: inbound, intent: greeting, scope: whole,"
        " phrases: [zork zork]}\n"
        "tests:\n"
        "  - {text: 'zork zork', intent: gratitude}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["rules", "test", str(rules_dir), "--models", str(tmp_path / "no-models")]
    )
    assert result.exit_code == 1
    assert "zz-extra.yaml:4" in result.stderr
    assert "zork zork" in result.stderr
    assert "greeting (rule hi-rule)" in result.stderr


def test_each_failing_rule_test_case_is_counted_once(rules_dir: Path, tmp_path: Path) -> None:
    shipped_cases = len(load_rules(rules_dir).intents.tests)
    (rules_dir / "intents" / "zz-extra.yaml").write_text(
        "rules:\n"
        "  - {id: hi-rule, direction: inbound, intent: greeting, scope: whole,"
        " phrases: [zork zork]}\n"
        "tests:\n"
        "  - {text: 'zork zork', intent: gratitude}\n"
        "  - {text: 'blorp', intent: gratitude}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["rules", "test", str(rules_dir), "--models", str(tmp_path / "no-models")]
    )
    assert result.exit_code == 1
    # the first case: a rule gave the wrong intent (the pipeline repeats that rule, so it is
    # one failure); the second: no rule matched, and without a model the pipeline says other
    assert f"2 of {shipped_cases + 2} rule test cases failed" in " ".join(result.stderr.split())
    failure_lines = [line for line in result.stderr.splitlines() if "[T010]" in line]
    assert [line.split(": [T010] ")[1].split(":")[0] for line in failure_lines] == [
        "rules",
        "rules",
        "pipeline",
    ]


def test_check_reports_every_error_of_every_file_in_one_run(rules_dir: Path) -> None:
    routing = rules_dir / "routing.yaml"
    text = routing.read_text(encoding="utf-8")
    text = text.replace("  inactivity_timeout: 30m", "  inactivity_timeout: -5s")
    text = text.replace("  pace_alpha: 0.5", "  pace_alfa: 0.5")
    routing.write_text(text, encoding="utf-8")
    workflow = rules_dir / "workflow.yaml"
    workflow.write_text(
        workflow.read_text(encoding="utf-8").replace("do: close", "do: shut", 1), encoding="utf-8"
    )
    result = runner.invoke(app, ["rules", "check", str(rules_dir)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": [T" in line]
    assert [(line.split(":")[0].rsplit("/", 1)[1], line.split("[")[1][:4]) for line in errors] == [
        ("routing.yaml", "T009"),
        ("routing.yaml", "T003"),
        ("workflow.yaml", "T003"),
    ]
    assert "inactivity_timeout must be a positive duration, not -5s" in errors[0]
    assert "pace_alfa: unknown key" in errors[1]
