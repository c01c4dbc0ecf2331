"""`tidal replay --compare RULES_A RULES_B FILE`: every decision a rule edit changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from tidal.service.cli import app

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"
runner = CliRunner()

CONVERSATIONS = [
    {
        "id": "conv-1",
        "messages": [
            {"direction": "inbound", "text": "my card is blocked"},
            {"direction": "outbound", "text": "Unblocked! Anything else I can help with?"},
            {"direction": "inbound", "text": "no thanks"},
        ],
    },
    {
        "id": "conv-2",
        "messages": [
            {"direction": "inbound", "text": "where is my parcel"},
            {"direction": "outbound", "text": "It arrives tomorrow."},
            {"direction": "inbound", "text": "thanks!"},
            {"direction": "inbound", "text": "thank you so much"},
        ],
    },
]


def _edited_rules(tmp_path: Path) -> Path:
    """The shipped rules, except that a thanks no longer leaves the conversation alone."""
    edited = tmp_path / "edited"
    shutil.copytree(SHIPPED_RULES, edited)
    workflow = edited / "workflow.yaml"
    text = workflow.read_text(encoding="utf-8")
    before = "intent: [gratitude, acknowledgement]}\n    do: ignore"
    assert before in text
    workflow.write_text(text.replace(before, "intent: [acknowledgement]}\n    do: ignore"))
    return edited


def _what_if(tmp_path: Path, rules_a: Path, rules_b: Path) -> tuple[int, list[dict], str]:
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text("".join(json.dumps(c) + "\n" for c in CONVERSATIONS), encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "replay",
            "--compare",
            str(rules_a),
            str(rules_b),
            "--models",
            str(tmp_path / "no-models"),
            str(traffic),
        ],
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, lines, result.stderr


def test_a_rule_edit_reports_each_changed_decision_with_counts_and_examples(
    tmp_path: Path,
) -> None:
    code, lines, err = _what_if(tmp_path, SHIPPED_RULES, _edited_rules(tmp_path))
    assert code == 0, err
    *changes, summary = lines
    first = changes[0]
    assert (first["conversation_id"], first["index"], first["text"]) == ("conv-2", 2, "thanks!")
    assert first["before"]["action"] == "ignore"
    assert first["after"]["action"] == "activate"
    report = summary["what_if"]
    assert report["messages"] == 7
    assert report["changed"] == len(changes)
    assert report["by_action"] == {"ignore -> activate": 2}
    assert report["examples"]["action: ignore -> activate"][0]["text"] == "thanks!"
    assert "decisions changed" in err


def test_the_same_rules_twice_change_nothing(tmp_path: Path) -> None:
    code, lines, err = _what_if(tmp_path, SHIPPED_RULES, SHIPPED_RULES)
    assert code == 0, err
    assert lines == [
        {
            "what_if": {
                "messages": 7,
                "changed": 0,
                "unpaired": 0,
                "by_intent": {},
                "by_action": {},
                "examples": {},
            }
        }
    ]


def test_compare_models_without_compare_is_a_usage_error(tmp_path: Path) -> None:
    traffic = tmp_path / "traffic.jsonl"
    traffic.write_text(json.dumps(CONVERSATIONS[0]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["replay", "--compare-models", "models", "models", str(traffic)])
    assert result.exit_code == 2
    assert "needs --compare" in result.output
