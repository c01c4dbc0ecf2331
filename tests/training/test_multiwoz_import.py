"""MultiWOZ dialogues into workflow-labelled turns: the sgd-workflow rules mapped onto
MultiWOZ's acts, texts detokenised, duplicates and conflicts out, the test split unread."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tidal.engine.rulesio.errors import FilesInvalid
from tidal.service.cli import app
from tidal.training.importers import multiwoz

runner = CliRunner()

REQ_MORE = {"general-reqmore": [["none", "none"]]}


def _turn(text: str, acts: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"text": text, "dialog_act": acts or {}, "metadata": {}}


def _dialogue(*turns: dict[str, Any]) -> dict[str, Any]:
    return {"goal": {}, "log": list(turns)}


@pytest.mark.parametrize(
    ("tokenised", "typed"),
    [
        ("That does n't matter .", "That doesn't matter."),
        ("I 'd like a table , please !", "I'd like a table, please!"),
        ("that 's all  I need \t today ?", "that's all I need today?"),
        ("No , we wo n't ( not today ) .", "No, we won't (not today)."),
    ],
)
def test_tokenised_texts_read_as_typed(tokenised: str, typed: str) -> None:
    assert multiwoz.detokenize(tokenised) == typed


@pytest.mark.parametrize(
    ("user", "text", "previous", "previous_text", "action"),
    [
        (["Hotel-Inform"], "I need a hotel", ["general-reqmore"], "Anything else?", "activate"),
        (["Booking-Inform"], "Yes, book it", ["Train-OfferBook"], "Shall I?", "activate"),
        (
            ["general-thank"],
            "No, that's all, thanks",
            ["Book", "general-reqmore"],
            "Done. Anything else?",
            "close",
        ),
        (["general-thank", "general-bye"], "Thanks, bye", ["general-reqmore"], "More?", "close"),
        (["general-thank"], "Thanks!", ["Restaurant-Recommend", "general-reqmore"], "X?", None),
        (
            ["general-thank"],
            "No thanks",
            ["Hotel-Inform", "general-reqmore"],
            "Want its phone?",
            None,
        ),
        (
            ["general-thank"],
            "Thanks, can I book it?",
            ["Taxi-Inform"],
            "Your taxi is booked.",
            None,
        ),
        (["general-thank"], "Thank you.", ["Taxi-Inform"], "Your taxi is booked.", "ignore"),
        (["general-thank"], "Thanks, that's all I need.", ["Taxi-Inform"], "Booked.", None),
        (["general-thank"], "Thanks.", ["Train-Inform"], "It leaves at 9. Book it?", None),
        (["general-thank"], "Thanks.", ["general-bye"], "Goodbye.", None),
        (["general-bye"], "Bye.", ["Taxi-Inform"], "Booked.", None),
        ([], "No, that will be all.", ["general-reqmore"], "Anything else?", None),
    ],
)
def test_customer_turns_follow_the_sgd_workflow_rules(
    user: list[str], text: str, previous: list[str], previous_text: str, action: str | None
) -> None:
    assert multiwoz.inbound_action(user, text, previous, previous_text)[0] == action


def test_a_first_turn_without_substance_is_left_out() -> None:
    assert multiwoz.inbound_action(["general-greet"], "Hello", None, "")[0] is None
    assert multiwoz.inbound_action(["Hotel-Inform"], "A hotel", None, "")[0] == "activate"


@pytest.mark.parametrize(
    ("acts", "text", "label"),
    [
        (["general-bye", "general-welcome"], "You're welcome, goodbye.", "closing"),
        (["Train-OfferBooked", "general-reqmore"], "Booked. Anything else?", "offer_more_help"),
        (["general-welcome", "general-reqmore"], "Sure. Need more help?", "offer_more_help"),
        (["Hotel-Inform", "Hotel-Request"], "It has parking. Which area?", "other"),
        (["Booking-Book"], "Booked, reference 8X2.", "other"),
        (["Hotel-NoOffer", "general-reqmore"], "None left. Anything else?", None),
        (["Train-OfferBook", "general-reqmore"], "Book it, or anything else?", None),
        (["general-welcome"], "You're welcome.", None),
        (["general-greet"], "Have a great day!", None),
        ([], "Anything else?", None),
    ],
)
def test_agent_turns_follow_the_sgd_workflow_rules(
    acts: list[str], text: str, label: str | None
) -> None:
    assert multiwoz.outbound_label(acts, text)[0] == label


@pytest.mark.parametrize(
    ("acts", "text", "literal", "checked"),
    [
        (
            ["Hotel-Inform", "general-reqmore"],
            "Would you like the address?",
            "offer_more_help",
            None,
        ),
        (
            ["Train-Inform", "general-reqmore"],
            "It leaves at 9. Does that work?",
            "offer_more_help",
            None,
        ),
        (["Booking-Book"], "Booked. Is there anything else I can do?", "other", None),
        (["Booking-Book"], "Booked. Will that be all?", "other", None),
        (["Booking-Book"], "Booked for two people.", "other", "other"),
    ],
)
def test_text_checks_leave_out_what_the_words_contradict(
    acts: list[str], text: str, literal: str, checked: str | None
) -> None:
    assert multiwoz.outbound_label(acts, text, literal=True)[0] == literal
    assert multiwoz.outbound_label(acts, text)[0] == checked


def _corpus() -> dict[str, Any]:
    offer = _turn("Booked . Anything else ?", {"Booking-Book": [], **REQ_MORE})
    return {
        "PMUL1": _dialogue(
            _turn("I need a train to Ely .", {"Train-Inform": [["Dest", "ely"]]}),
            offer,
            _turn("No , that 's all . Thanks !", {"general-thank": [["none", "none"]]}),
            _turn("Goodbye .", {"general-bye": [["none", "none"]]}),
        ),
        "PMUL2": _dialogue(
            _turn("I need a train to Ely .", {"Train-Inform": [["Dest", "ely"]]}),
            offer,
            _turn("no, that's all. thanks!", {"general-thank": [["none", "none"]]}),
            _turn("Goodbye .", {"Train-Inform": []}),
        ),
    }


def test_turns_are_unique_and_texts_with_two_labels_are_dropped() -> None:
    turns = multiwoz.label_split(_corpus(), "dev")
    assert [(c["text"], c["expected_action"]) for c in turns.inbound] == [
        ("I need a train to Ely.", "activate"),
        ("No, that's all. Thanks!", "close"),
    ]
    assert turns.inbound[1]["previous_outbound_text"] == "Booked. Anything else?"
    assert turns.inbound[1]["expected_intents"] == ["gratitude"]
    assert turns.inbound[1]["source"] == "multiwoz/dev/PMUL1/2"
    # "Goodbye." is closing once and other once: dropped; the offer is kept once
    assert [(c["text"], c["expected_label"]) for c in turns.outbound] == [
        ("Booked. Anything else?", "offer_more_help")
    ]
    assert turns.summary["outbound_conflicting_keys_dropped"] == 1


def test_activate_is_capped_after_offers_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multiwoz, "ACTIVATE_CAP", 4)
    dialogues = {
        f"D{n}": _dialogue(
            _turn(f"I need hotel number {n} .", {"Hotel-Inform": []}),
            _turn("Done . Anything else ?", REQ_MORE),
            _turn(f"Also a taxi number {n} .", {"Taxi-Inform": []}),
        )
        for n in range(6)
    }
    turns = multiwoz.label_split(dialogues, "dev")
    after_offer = [c for c in turns.inbound if c["previous_outbound_text"]]
    assert len(turns.inbound) == 4
    assert len(after_offer) == 3  # weight 3 against 1 in the round robin


def test_import_writes_dev_from_a_zip_and_never_reads_test(tmp_path: Path) -> None:
    source = tmp_path / "multiwoz"
    source.mkdir()
    with zipfile.ZipFile(source / "val.json.zip", "w") as archive:
        archive.writestr("val.json", json.dumps(_corpus()))
    (source / "test.json").write_text("not even JSON", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["data", "import", "multiwoz", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "dev: 2 customer turns" in result.output
    rows = [json.loads(line) for line in (out / "inbound_dev.jsonl").read_text().splitlines()]
    assert {r["expected_action"] for r in rows} == {"activate", "close"}
    assert not (out / "inbound_test.jsonl").exists()
    summary = json.loads((out / "build_summary.json").read_text())
    assert summary["licence"] == "MIT" and "test" not in summary


def test_a_folder_without_multiwoz_splits_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FilesInvalid):
        multiwoz.import_multiwoz(tmp_path, tmp_path / "out")
    (tmp_path / "val.json").write_text('{"X": {"turns": []}}', encoding="utf-8")
    result = runner.invoke(
        app, ["data", "import", "multiwoz", str(tmp_path), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "not MultiWOZ 2.1 dialogues" in result.output
