"""SGD workflow turns into Tidal training data: intents mapped from decisions, texts
unique and uncontested, sampling bounded, dev kept apart, the contested file unread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tidal.engine.rulesio.errors import FilesInvalid
from tidal.service.cli import app
from tidal.training.dataset import load_directory
from tidal.training.importers import sgd

runner = CliRunner()


def _inbound(
    text: str, action: str, acts: list[str], previous: str | None = "Done."
) -> dict[str, Any]:
    return {
        "text": text,
        "expected_action": action,
        "user_acts": acts,
        "previous_outbound_text": previous,
        "previous_outbound_acts": ["REQ_MORE"] if previous and "else" in previous else [],
        "_line": 1,
    }


@pytest.mark.parametrize(
    ("text", "action", "acts", "intent"),
    [
        ("No, that's all. Bye!", "close", ["NEGATE", "GOODBYE"], "goodbye"),
        ("No, that's it for now", "close", ["NEGATE", "THANK_YOU"], "deny"),
        ("Thank you so much", "close", ["NEGATE", "THANK_YOU"], "gratitude"),
        ("Great, thanks!", "ignore", ["THANK_YOU"], "gratitude"),
        ("Awesome.", "ignore", ["THANK_YOU"], "acknowledgement"),
        ("I need a cab to the airport", "activate", ["INFORM_INTENT"], "other"),
        ("Not now, maybe later.", "activate", ["NEGATE_INTENT"], None),
        ("Yes, please!", "activate", ["AFFIRM_INTENT"], None),
    ],
)
def test_customer_turns_get_the_intent_that_leads_to_their_decision(
    text: str, action: str, acts: list[str], intent: str | None
) -> None:
    assert sgd.inbound_intent(_inbound(text, action, acts)) == intent


def test_texts_are_used_once_and_never_with_two_labels_or_against_a_rule() -> None:
    cases = [
        _inbound("Find me a hotel", "activate", ["INFORM_INTENT"]),
        _inbound("find me a hotel!", "activate", ["INFORM_INTENT"]),
        _inbound("Thanks", "ignore", ["THANK_YOU"]),
        _inbound("Thanks", "activate", ["INFORM_INTENT"]),
        _inbound("Book it, thanks", "activate", ["INFORM_INTENT"]),
        _inbound("Known text", "activate", ["INFORM"]),
    ]
    chosen = sgd.select_inbound(
        cases,
        "x.jsonl",
        max_other=10,
        max_per_intent=10,
        exclude=frozenset({"known text"}),
        rule_intent=lambda text: "gratitude" if "thanks" in text.lower() else None,
    )
    assert [(e.text, e.intent) for e in chosen.examples] == [("Find me a hotel", "other")]
    assert chosen.skipped["repeated text"] == 1
    assert chosen.skipped["text with two labels"] == 2
    assert chosen.skipped["label a rule contradicts"] == 1
    assert chosen.skipped["text already in Tidal's data"] == 1


def test_other_is_capped_with_requests_after_an_offer_of_more_help_first() -> None:
    cases = [_inbound(f"Find me hotel {n}", "activate", ["INFORM_INTENT"]) for n in range(5)]
    cases.append(_inbound("Now a cab please", "activate", ["INFORM_INTENT"], "Anything else?"))
    chosen = sgd.select_inbound(cases, "x.jsonl", max_other=2, max_per_intent=2)
    assert len(chosen.examples) == 2
    assert chosen.examples[0].text == "Now a cab please"
    assert chosen.skipped["sampled out"] == 4


def test_composite_offers_join_a_report_to_an_offer() -> None:
    cases = [
        {
            "text": "Your cab is booked.",
            "expected_label": "other",
            "acts": ["NOTIFY_SUCCESS"],
            "_line": 3,
        },
        {
            "text": "Anything else?",
            "expected_label": "offer_more_help",
            "acts": ["REQ_MORE"],
            "_line": 4,
        },
        {"text": "Where to?", "expected_label": "other", "acts": ["REQUEST"], "_line": 5},
    ]
    joined = sgd.composite_offers(cases, "out.jsonl", 2)
    assert [(e.text, e.intent) for e in joined] == [
        ("Your cab is booked. Anything else?", "offer_more_help")
    ] * 2


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _sgd_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sgd-workflow"
    folder.mkdir()
    inbound = [
        _inbound("I want to book a table for two", "activate", ["INFORM_INTENT"]),
        _inbound("No, that is everything", "close", ["NEGATE", "THANK_YOU"], "Anything else?"),
        _inbound("Much obliged to you", "ignore", ["THANK_YOU"]),
    ]
    for row in inbound:
        row.pop("_line")
    _write(folder / "inbound_train.jsonl", inbound)
    _write(
        folder / "inbound_dev.jsonl",
        [inbound[0], {**inbound[0], "text": "Find me a flight to Denver"}],
    )
    outbound = [
        {
            "text": "Anything else I can help with?",
            "expected_label": "offer_more_help",
            "acts": ["REQ_MORE"],
        },
        {"text": "Have a wonderful evening!", "expected_label": "closing", "acts": ["GOODBYE"]},
        {"text": "Which city are you in?", "expected_label": "other", "acts": ["REQUEST"]},
    ]
    _write(folder / "outbound_train.jsonl", outbound)
    _write(folder / "outbound_dev.jsonl", outbound[:1])
    (folder / "README.md").write_text("SGD, CC BY-SA 4.0\n")
    (folder / "build_summary.json").write_text("{}\n")
    (folder / "inbound_train_contested.jsonl").write_text("not json at all\n")
    return folder


def test_import_writes_training_files_and_a_disjoint_validation_copy(tmp_path: Path) -> None:
    source = _sgd_folder(tmp_path)
    data, validation = tmp_path / "data", tmp_path / "validation"
    (data / "inbound").mkdir(parents=True)
    (data / "outbound").mkdir(parents=True)
    result = runner.invoke(
        app,
        [
            "data",
            "import",
            "sgd",
            str(source),
            "--out",
            str(data),
            "--validation",
            str(validation),
            "--eval",
            str(tmp_path / "no-eval"),
        ],
    )
    assert result.exit_code == 0, result.output
    examples = {(e.text, e.intent) for e in load_directory(data)}
    assert ("I want to book a table for two", "other") in examples
    assert ("No, that is everything", "deny") in examples
    assert ("Have a wonderful evening!", "closing") in examples
    assert "CC BY-SA 4.0" in (data / "inbound" / "sgd.yaml").read_text()
    assert (validation / "README.md").read_text() == "SGD, CC BY-SA 4.0\n"
    dev = (validation / "inbound_dev.jsonl").read_text().splitlines()
    assert [json.loads(line)["text"] for line in dev] == ["Find me a flight to Denver"]
    assert "left out 1 dev customer turns" in result.output


def test_a_broken_train_file_is_reported_with_its_line_and_writes_nothing(tmp_path: Path) -> None:
    source = _sgd_folder(tmp_path)
    (source / "inbound_train.jsonl").write_text('{"text": "hi"}\nnot json\n')
    with pytest.raises(FilesInvalid) as caught:
        sgd.read_train(source, "inbound")
    assert [(e.line, e.code) for e in caught.value.errors] == [(1, "T003"), (2, "T001")]
    result = runner.invoke(
        app, ["data", "import", "sgd", str(source), "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert not (tmp_path / "d" / "inbound" / "sgd.yaml").exists()
