"""Importers of CLINC150, Banking77 and Rasa NLU data, and `tidal data import/check`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidal.engine.core.intents import IntentCatalogue
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.service.cli import app
from tidal.training.dataset import load_examples
from tidal.training.importers.banking77 import read_banking77
from tidal.training.importers.clinc150 import read_clinc150
from tidal.training.importers.rasa import read_rasa, strip_entities
from tidal.training.importers.tidal_yaml import render

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def errors_of(caught: pytest.ExceptionInfo[FilesInvalid]) -> list[str]:
    return [str(e) for e in caught.value.errors]


# CLINC150


def test_clinc150_keeps_original_labels_per_split_with_lines() -> None:
    splits = read_clinc150(FIXTURES / "clinc150_small.json")
    assert list(splits) == ["train", "test", "oos_test"]
    assert [(e.text, e.intent, e.line) for e in splits["train"]] == [
        ("hello there", "greeting", 4),
        ("thanks a lot", "thank_you", 8),
        ("yes please", "yes", 12),
        ("how do i transfer money", "transfer", 16),
    ]
    assert splits["oos_test"][0].text == 'what is the "capital" of peru'


def test_clinc150_maps_conversational_intents_to_tidal_and_the_rest_to_other() -> None:
    splits = read_clinc150(FIXTURES / "clinc150_small.json", map_to_tidal=True)
    labels = [e.intent for split in splits.values() for e in split]
    assert labels == ["greeting", "gratitude", "affirm", "other", "deny", "goodbye", "other"]
    assert {e.direction for split in splits.values() for e in split} == {"inbound"}


def test_clinc150_reports_every_bad_pair_and_unknown_split() -> None:
    path = FIXTURES / "clinc150_bad.json"
    with pytest.raises(FilesInvalid) as caught:
        read_clinc150(path)
    errors = errors_of(caught)
    assert f"{path}:8: [T003] train.1: empty text or intent" in errors
    assert any(e.startswith(f"{path}:") and "train.2: expected [text, intent]" in e for e in errors)
    assert any("unknown split 'holdout'" in e for e in errors)


def test_clinc150_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "train": [\n    ["hi", "greeting"\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(FilesInvalid) as caught:
        read_clinc150(path)
    assert errors_of(caught)[0].startswith(f"{path}:5: [T001]")


def test_the_shipped_clinc150_file_imports_completely() -> None:
    root = Path(__file__).resolve().parents[2]
    splits = read_clinc150(root / "training/external/clinc150/data_full.json")
    assert {name: len(examples) for name, examples in splits.items()} == {
        "oos_val": 100, "val": 3000, "train": 15000,
        "oos_test": 1000, "test": 4500, "oos_train": 100,
    }  # fmt: skip


# Banking77


def test_banking77_rows_keep_labels_and_start_lines_of_multiline_rows() -> None:
    examples = read_banking77(FIXTURES / "banking77_small.csv")
    assert [(e.intent, e.line) for e in examples] == [
        ("card_arrival", 2),
        ("top_up_fee", 3),
        ("activate_my_card", 5),
    ]
    assert examples[1].text == "Why was I charged a fee,\nwhen I topped up?"


def test_banking77_can_label_every_query_other() -> None:
    examples = read_banking77(FIXTURES / "banking77_small.csv", map_to_tidal=True)
    assert {e.intent for e in examples} == {"other"}


def test_banking77_reports_every_bad_row(tmp_path: Path) -> None:
    path = FIXTURES / "banking77_bad.csv"
    with pytest.raises(FilesInvalid) as caught:
        read_banking77(path)
    assert errors_of(caught) == [
        f"{path}:3: [T003] empty text or category",
        f"{path}:4: [T003] expected 2 columns, found 3",
    ]
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("sentence,label\nhi,greeting\n", encoding="utf-8")
    with pytest.raises(FilesInvalid, match=r"wrong\.csv:1: \[T003\] expected the header"):
        read_banking77(wrong)


# Rasa


def test_rasa_reads_intents_and_strips_entity_annotations() -> None:
    path = FIXTURES / "rasa_nlu.yml"
    examples = read_rasa(path)
    assert [(e.intent, e.text, e.line) for e in examples] == [
        ("greet", "hey", 5),
        ("greet", "hello there", 6),
        ("greet", "good morning", 7),
        ("book_flight", "I want to fly to Paris", 11),
        ("book_flight", "book a flight from London to Rome", 12),
        ("book_flight", "fly me to Oslo", 13),
        ("deny", "no thanks", 22),
        ("deny", "nope", 26),
    ]
    assert all(e.path == str(path) for e in examples)


def test_strip_entities_leaves_plain_brackets_alone() -> None:
    assert strip_entities("[Paris](city:PAR) and [x]") == "Paris and [x]"


def test_rasa_reports_every_problem_with_its_line() -> None:
    path = FIXTURES / "rasa_bad.yml"
    with pytest.raises(FilesInvalid) as caught:
        read_rasa(path)
    errors = errors_of(caught)
    assert (
        f"{path}:6: [T003] intent 'greet': expected `- text`, found 'hello without a dash'"
        in errors
    )
    assert f"{path}:7: [T003] intent 'greet': empty example" in errors
    assert any(e.startswith(f"{path}:8: [T003] intent 'deny'") for e in errors)
    assert any(e.startswith(f"{path}:11: [T003] intent 'affirm'") for e in errors)
    assert len(errors) == 4


def test_rasa_file_without_nlu_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "stories.yml"
    path.write_text('version: "3.1"\nstories: []\n', encoding="utf-8")
    with pytest.raises(FilesInvalid, match=r"\[T003\] expected a top-level `nlu:` list"):
        read_rasa(path)


# Writing Tidal YAML


def test_rendered_file_loads_back_with_quoted_yes_and_no_intents(tmp_path: Path) -> None:
    examples = read_clinc150(FIXTURES / "clinc150_small.json")
    text, written = render(
        [*examples["train"], *examples["test"]], direction="inbound", source="s", licence="l"
    )
    path = tmp_path / "out.yaml"
    path.write_text(text, encoding="utf-8")
    labels = frozenset({"greeting", "thank_you", "yes", "no", "transfer", "goodbye", "other"})
    loaded = load_examples([path], IntentCatalogue(inbound=labels, outbound=frozenset()))
    assert [(e.text, e.intent) for e in loaded] == [
        (e.text, e.intent) for e in [*examples["train"], *examples["test"]]
    ]
    assert written.examples == 6 and written.intents == 6


def test_render_leaves_out_repeats_and_contradictions() -> None:
    from tidal.training.dataset import Example

    examples = [
        Example("hi", "greeting", "inbound", "a", 1),
        Example("hi", "greeting", "inbound", "a", 2),
        Example("Hi!", "other", "inbound", "a", 3),
    ]
    text, written = render(examples, direction="inbound", source="s", licence="l")
    assert (written.examples, written.repeats_skipped, written.conflicts_skipped) == (1, 1, 1)
    assert '"other"' not in text


# Command line


def test_cli_imports_clinc150_mapped_to_tidal_and_the_result_checks_clean(tmp_path: Path) -> None:
    out = tmp_path / "data" / "inbound" / "clinc.yaml"
    result = runner.invoke(
        app,
        ["data", "import", "clinc150", str(FIXTURES / "clinc150_small.json"),
         "--out", str(out), "--map-to-tidal", "--split", "test"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "wrote 2 examples of 2 intents" in result.output
    checked = runner.invoke(app, ["data", "check", str(tmp_path / "data")])
    assert checked.exit_code == 0, checked.output
    assert "2 examples: ok" in checked.output


def test_cli_import_of_invalid_data_exits_1_with_located_errors(tmp_path: Path) -> None:
    path = FIXTURES / "rasa_bad.yml"
    result = runner.invoke(
        app,
        [
            "data",
            "import",
            "rasa",
            str(path),
            "--out",
            str(tmp_path / "x.yaml"),
            "--licence",
            "MIT",
        ],
    )
    assert result.exit_code == 1
    assert f"{path}:7: [T003]" in result.output
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize(
    "arguments",
    [
        ["data", "import", "csv", "x.csv", "--out", "o.yaml"],
        ["data", "import", "rasa", str(FIXTURES / "rasa_nlu.yml"), "--out", "o.yaml"],
        ["data", "import", "banking77", str(FIXTURES / "banking77_small.csv"), "--out", "o.yaml",
         "--direction", "sideways"],
        ["data", "check", "/no/such/directory"],
    ],
)  # fmt: skip
def test_cli_usage_errors_exit_2(arguments: list[str]) -> None:
    assert runner.invoke(app, arguments).exit_code == 2


def test_cli_check_exits_1_and_lists_every_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        'version: 1\ndirection: inbound\nsource: "t"\nlicence: "MIT"\n'
        'intents:\n  weather:\n    - "is it sunny"\n  other:\n    - 7\n',
        encoding="utf-8",
    )
    (tmp_path / "workflow.yaml").write_text(
        "version: 1\ncases:\n  - {text: hi, after: nonsense, expect: activate}\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["data", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'a.yaml'}:6: [T005]" in result.output
    assert f"{tmp_path / 'a.yaml'}:9: [T003]" in result.output
    assert f"{tmp_path / 'workflow.yaml'}:3: [T005]" in result.output
    assert "3 error(s)" in result.output
