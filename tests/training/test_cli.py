"""`tidal train` and `tidal evaluate`: candidates, promotion guard, errors, exit codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.training.tiny_data import GREETINGS, OTHER, THANKS, write_examples
from tidal.engine.classify.model import IntentModel
from tidal.service.cli import app

OUTBOUND_GREETINGS = [
    "Hi, this is Dana from Acme, how can I help?",
    "Hello, Sam here from support, what can I do for you?",
    "Good morning, this is Lee at the help desk, how may I help?",
    "Hi there, Alex from Acme here, how can I help today?",
    "Hello! This is Kim from customer care, how can I assist?",
    "Hi, you are chatting with Jo from Acme, what do you need?",
]
OUTBOUND_OTHER = [
    "Your parcel left the depot this morning.",
    "I have refunded the charge to your card.",
    "The new card will arrive within five days.",
    "Your address is now updated in our system.",
    "The invoice was sent to your email address.",
    "I reset your password, please check your inbox.",
]

runner = CliRunner()


def _train(tree: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(
        app,
        [
            "train",
            "--direction",
            "inbound",
            "--data",
            str(tree / "data"),
            "--eval",
            str(tree / "eval"),
            "--models",
            str(tree / "models"),
            *extra,
        ],
    )
    return result.exit_code, result.output


def _mislabel(tree: Path) -> None:
    """Every group of examples under the wrong intent: a model worse than any."""
    write_examples(
        tree / "data" / "inbound" / "small.yaml",
        "inbound",
        {"other": GREETINGS, "greeting": THANKS, "gratitude": OTHER},
    )


def test_train_writes_a_candidate_with_all_files_and_leaves_no_model_in_use(
    data_tree: Path,
) -> None:
    code, output = _train(data_tree)
    assert code == 0, output
    candidate = data_tree / "models" / "inbound-candidate"
    assert {p.name for p in candidate.iterdir()} == {
        "model.npz",
        "metadata.json",
        "metrics.json",
        "confusion_matrix.png",
        "MODEL_CARD.md",
    }
    assert IntentModel.load(candidate).direction == "inbound"
    assert not (data_tree / "models" / "inbound").exists()
    assert "greeting" in output and "macro F1" in output


def test_promote_refuses_a_worse_model_unless_forced(data_tree: Path) -> None:
    code, output = _train(data_tree, "--promote")
    assert code == 0, output
    good = IntentModel.load(data_tree / "models" / "inbound").version

    _mislabel(data_tree)
    code, output = _train(data_tree, "--promote")
    assert code == 1
    assert "refusing to replace" in output
    assert IntentModel.load(data_tree / "models" / "inbound").version == good

    code, output = _train(data_tree, "--promote", "--force")
    assert code == 0, output
    assert IntentModel.load(data_tree / "models" / "inbound").version != good


def test_invalid_training_file_reports_path_and_line(data_tree: Path) -> None:
    bad = data_tree / "data" / "inbound" / "bad.yaml"
    bad.write_text(
        'version: 1\ndirection: inbound\nsource: "x"\nlicence: "x"\nintents:\n'
        '  not_an_intent:\n    - "hello"\n'
    )
    code, output = _train(data_tree)
    assert code == 1
    assert f"{bad}:6:" in output


def test_usage_errors_exit_2(data_tree: Path) -> None:
    assert _train(data_tree, "--force")[0] == 2
    assert runner.invoke(app, ["train", "--direction", "sideways"]).exit_code == 2
    assert runner.invoke(app, ["evaluate", "--cv", "1"]).exit_code == 2


def test_evaluate_compares_a_candidate_with_the_model_in_use(data_tree: Path) -> None:
    assert _train(data_tree, "--promote")[0] == 0
    assert _train(data_tree)[0] == 0
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(data_tree / "models" / "inbound-candidate"),
            "--against",
            str(data_tree / "models" / "inbound"),
            "--eval",
            str(data_tree / "eval"),
            "--report",
            str(data_tree / "report"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "precision" in result.output
    assert "compared with" in result.output
    assert "Compared with" in (data_tree / "report" / "inbound" / "report.md").read_text()


def test_evaluate_without_a_model_evaluates_both_directions_with_a_report_and_plot(
    data_tree: Path,
) -> None:
    write_examples(
        data_tree / "data" / "outbound" / "small.yaml",
        "outbound",
        {"greeting": OUTBOUND_GREETINGS, "other": OUTBOUND_OTHER},
    )
    write_examples(
        data_tree / "eval" / "outbound" / "small.yaml",
        "outbound",
        {"greeting": OUTBOUND_GREETINGS[:3], "other": OUTBOUND_OTHER[:3]},
    )
    assert _train(data_tree, "--promote")[0] == 0
    assert _train(data_tree, "--promote", "--direction", "outbound")[0] == 0
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--models",
            str(data_tree / "models"),
            "--eval",
            str(data_tree / "eval"),
            "--report",
            str(data_tree / "report"),
        ],
    )
    assert result.exit_code == 0, result.output
    for direction in ("inbound", "outbound"):
        folder = data_tree / "report" / direction
        assert (folder / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG")
        report = (folder / "report.md").read_text(encoding="utf-8")
        assert report.startswith(f"# Evaluation of `{direction}-")
        assert "macro F1" in report and "| `other` |" in report
        assert f"wrote {folder / 'report.md'}" in result.output


def test_evaluate_without_any_model_says_how_to_get_one(tmp_path: Path) -> None:
    (tmp_path / "eval").mkdir()
    result = runner.invoke(
        app, ["evaluate", "--models", str(tmp_path / "none"), "--eval", str(tmp_path / "eval")]
    )
    assert result.exit_code == 1
    assert "tidal train --promote" in result.output


def test_evaluate_refuses_a_missing_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--model", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "metadata is missing" in result.output


def test_evaluate_cross_validates_on_training_data_on_request(data_tree: Path) -> None:
    assert _train(data_tree, "--promote")[0] == 0
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--model",
            str(data_tree / "models" / "inbound"),
            "--eval",
            str(data_tree / "eval"),
            "--data",
            str(data_tree / "data"),
            "--cv",
            "2",
            "--report",
            str(data_tree / "report"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "fold 2/2" in result.output
    assert "2-fold cross-validation" in result.output


def test_train_with_the_encoder_writes_a_cascade_that_checks_the_costly_intents(
    data_tree: Path,
) -> None:
    code, output = _train(data_tree, "--encoder", "--encoder-gate", "0.8")
    assert code == 0, output
    model = IntentModel.load(data_tree / "models" / "inbound-candidate")
    settings = model.metadata["features"]["encoder"]
    assert model.encoder is not None and settings["gate"] == 0.8
    # From the shipped workflow: gratitude closes after an offer of more help.
    assert "gratitude" in settings["confirm"] and "greeting" not in settings["confirm"]
    assert (
        "sentence encoder"
        in (data_tree / "models" / "inbound-candidate" / "MODEL_CARD.md").read_text()
    )


def test_the_encoder_cannot_be_combined_with_word_vectors(data_tree: Path) -> None:
    code, _ = _train(data_tree, "--encoder", "--vectors", "16")
    assert code == 2
