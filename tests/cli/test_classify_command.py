"""`tidal classify TEXT --direction D`: one classification as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tidal.service.cli import app

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"
runner = CliRunner()


def test_classify_prints_the_classification_as_json(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "classify",
            "No, that's all, thanks!",
            "--direction",
            "inbound",
            "--rules",
            str(SHIPPED_RULES),
            "--models",
            str(tmp_path / "none"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "intent": "deny",
        "confidence": 1.0,
        "source": "rule",
        "rule_id": "inbound-deny",
        "model_version": None,
        "alternatives": [],
    }


def test_classify_outbound(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "classify",
            "Anything else I can help with?",
            "--direction",
            "outbound",
            "--rules",
            str(SHIPPED_RULES),
            "--models",
            str(tmp_path / "none"),
        ],
    )
    assert json.loads(result.stdout)["intent"] == "offer_more_help"


def test_unknown_direction_is_a_usage_error() -> None:
    result = runner.invoke(app, ["classify", "hi", "--direction", "sideways"])
    assert result.exit_code == 2


def test_invalid_rules_exit_1_with_their_errors(tmp_path: Path) -> None:
    (tmp_path / "intents").mkdir()
    result = runner.invoke(
        app, ["classify", "hi", "--rules", str(tmp_path), "--models", str(tmp_path / "none")]
    )
    assert result.exit_code == 1
    assert "[T008]" in result.stderr
