"""The training-data format (reading, validation with lines, the dataset hash) and the
shipped training data, held-out evaluation sets and decision cases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tidal.engine.core.intents import DEFAULT_CATALOGUE
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.training.dataset import (
    Example,
    dataset_hash,
    load_directory,
    load_examples,
    load_workflow_cases,
    text_key,
)

GOOD_INBOUND = """\
version: 1
direction: inbound
source: "tests"
licence: "Apache-2.0"
intents:
  gratitude:
    - "thanks!"
    - "thank u so much 🙏"
  deny:
    - "no"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(paths: list[Path]) -> list[str]:
    with pytest.raises(FilesInvalid) as caught:
        load_examples(paths)
    return [str(e) for e in caught.value.errors]


def test_reads_examples_with_their_direction_and_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", GOOD_INBOUND)
    examples = load_examples([path])
    assert examples == [
        Example("thanks!", "gratitude", "inbound", str(path), 7),
        Example("thank u so much 🙏", "gratitude", "inbound", str(path), 8),
        Example("no", "deny", "inbound", str(path), 10),
    ]


def test_unknown_intent_for_the_direction_is_t005_on_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.yaml",
        GOOD_INBOUND.replace("direction: inbound", "direction: outbound"),
    )
    errors = errors_of([path])
    assert any(e.startswith(f"{path}:6: [T005]") and "'gratitude'" in e for e in errors)
    assert any(e.startswith(f"{path}:9: [T005]") and "'deny'" in e for e in errors)


def test_every_schema_error_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        """\
version: 1
direction: inbound
source: "tests"
licence: "Apache-2.0"
colour: blue
intents:
  gratitude:
    - "thanks"
    - 42
    - "   "
  deny: []
""",
    )
    errors = errors_of([path])
    assert f"{path}:5: [T003] colour: unknown key" in errors
    assert any(e.startswith(f"{path}:9: [T003] intents.gratitude.1:") for e in errors)
    assert f"{path}:10: [T003] intents.gratitude.2: must not be empty or blank" in errors
    assert any(e.startswith(f"{path}:11: [T003] intents.deny:") for e in errors)


def test_missing_provenance_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", GOOD_INBOUND.replace('licence: "Apache-2.0"\n', ""))
    assert f"{path}:1: [T003] licence: required key is missing" in errors_of([path])


def test_same_text_with_two_intents_across_files_names_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", GOOD_INBOUND)
    second = write(
        tmp_path,
        "b.yaml",
        'version: 1\ndirection: inbound\nsource: "t"\nlicence: "MIT"\n'
        'intents:\n  other:\n    - "Thanks!!"\n',
    )
    errors = errors_of([first, second])
    assert len(errors) == 1
    assert errors[0].startswith(f"{second}:7: [T004]")
    assert f"{first}:7" in errors[0]
    assert "'gratitude'" in errors[0] and "'other'" in errors[0]


def test_exact_repeat_within_an_intent_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.yaml", GOOD_INBOUND.replace("  deny:\n", '    - "thanks!"\n  deny:\n')
    )
    errors = errors_of([path])
    assert errors == [
        f"{path}:9: [T004] duplicate example 'thanks!' of 'gratitude' (first at {path}:7)"
    ]


def test_variants_of_one_text_may_teach_the_same_intent(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", GOOD_INBOUND.replace("  deny:\n", '    - "Thanks"\n  deny:\n'))
    assert len(load_examples([path])) == 4


def test_same_text_in_both_directions_is_not_a_conflict(tmp_path: Path) -> None:
    inbound = write(tmp_path, "in.yaml", GOOD_INBOUND)
    outbound = write(
        tmp_path,
        "out.yaml",
        'version: 1\ndirection: outbound\nsource: "t"\nlicence: "MIT"\n'
        'intents:\n  closing:\n    - "thanks!"\n',
    )
    assert len(load_examples([inbound, outbound])) == 4


def test_duplicate_yaml_keys_and_syntax_errors_are_reported(tmp_path: Path) -> None:
    dup = write(tmp_path, "dup.yaml", GOOD_INBOUND + '  deny:\n    - "nope"\n')
    broken = write(tmp_path, "broken.yaml", "version: 1\nintents: [\n")
    errors = errors_of([dup, broken])
    assert any(e.startswith(f"{dup}:11: [T002]") for e in errors)
    assert any(e.startswith(f"{broken}:") and "[T001]" in e for e in errors)


def test_load_directory_reads_all_files_sorted_and_filters_direction(tmp_path: Path) -> None:
    write(tmp_path, "inbound/b.yaml", GOOD_INBOUND)
    write(
        tmp_path,
        "outbound/a.yaml",
        'version: 1\ndirection: outbound\nsource: "t"\nlicence: "MIT"\n'
        'intents:\n  hold:\n    - "one moment please"\n',
    )
    write(tmp_path, "workflow.yaml", "version: 1\ncases: []\n")
    assert [e.intent for e in load_directory(tmp_path)] == [
        "gratitude",
        "gratitude",
        "deny",
        "hold",
    ]
    assert [e.text for e in load_directory(tmp_path, "outbound")] == ["one moment please"]


def test_inbound_data_in_the_outbound_folder_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "outbound/a.yaml", GOOD_INBOUND)
    with pytest.raises(FilesInvalid) as caught:
        load_directory(tmp_path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:2: [T003] direction: inbound data in the outbound/ folder"
    ]


def test_load_directory_without_data_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FilesInvalid, match=r"\[T008\] no \*\.yaml data files found"):
        load_directory(tmp_path)
    with pytest.raises(FilesInvalid, match=r"\[T008\] not a directory"):
        load_directory(tmp_path / "missing")


def test_dataset_hash_ignores_order_and_place_but_not_labels() -> None:
    a = Example("thanks", "gratitude", "inbound", "a.yaml", 1)
    b = Example("no", "deny", "inbound", "a.yaml", 2)
    moved = Example("thanks", "gratitude", "inbound", "b.yaml", 9)
    relabelled = Example("thanks", "other", "inbound", "a.yaml", 1)
    assert dataset_hash([a, b]) == dataset_hash([b, moved])
    assert dataset_hash([a, b]) != dataset_hash([relabelled, b])
    assert len(dataset_hash([])) == 64


def test_text_key_ignores_case_punctuation_and_spacing_but_keeps_emoji() -> None:
    assert text_key("  No,   that's ALL! ") == text_key("no thats all") == "no thats all"
    assert text_key("ok 👍") != text_key("ok")


def test_workflow_cases_are_read_with_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "workflow.yaml",
        "version: 1\ncases:\n"
        "  - {text: 'no thanks', after: offer_more_help, expect: close}\n"
        "  - {text: 'thanks!', after: null, expect: ignore}\n",
    )
    cases = load_workflow_cases(path)
    assert [(c.text, c.after, c.expect, c.line) for c in cases] == [
        ("no thanks", "offer_more_help", "close", 3),
        ("thanks!", None, "ignore", 4),
    ]


def test_workflow_case_errors_are_all_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "workflow.yaml",
        "version: 1\ncases:\n"
        "  - {text: 'no thanks', after: offer_more_help, expect: close}\n"
        "  - {text: 'hi', after: gratitude, expect: activate}\n"
        "  - {text: 'No thanks!', after: offer_more_help, expect: close}\n"
        "  - {text: 'bye', after: null, expect: explode}\n",
    )
    with pytest.raises(FilesInvalid) as caught:
        load_workflow_cases(path)
    errors = [str(e) for e in caught.value.errors]
    assert any(e.startswith(f"{path}:6: [T003] cases.3.expect:") for e in errors)
    assert any(e.startswith(f"{path}:4: [T005]") and "'gratitude'" in e for e in errors)
    assert any(e.startswith(f"{path}:5: [T004]") and "repeats line 3" in e for e in errors)


# The shipped data: valid, large enough, and evaluation kept apart from training.

ROOT = Path(__file__).resolve().parents[2] / "training"

# The specification's own examples, which the decision cases repeat on purpose.
SPEC_EXAMPLES = {
    "no thanks",
    "thanks!",
    "thanks! also my card is blocked",
    "gtg, meeting, text u later",
    "someone stole my card",
    "bye",
    "STOP",
    "no it still doesn't work",
    "No, that's all, thanks",
    "Thanks! Also, can you change my address?",
    "heading into a meeting, I'll text you after",
    "ok",
    "my card is blocked",
    "how do I stop my subscription renewing?",
    "it's 4417",
    "yes, my order number is 88123",
    "yes it's the blue one",
    "thanks, but where is my parcel?",
    "ok but the refund still hasn't arrived",
    "no, I still can't log in",
    "remove me from this list",
    "UNSUBSCRIBE",
    "can I speak to a real person please?",
}


@pytest.fixture(scope="module")
def training() -> list[Example]:
    return load_directory(ROOT / "data")


@pytest.fixture(scope="module")
def evaluation() -> list[Example]:
    return load_directory(ROOT / "eval")


def counts(examples: list[Example]) -> Counter[tuple[str, str]]:
    return Counter((e.direction, e.intent) for e in examples)


def test_training_data_covers_every_intent_generously(training: list[Example]) -> None:
    found = counts(training)
    for intent in DEFAULT_CATALOGUE.inbound:
        assert found["inbound", intent] >= (400 if intent == "other" else 180), intent
    for intent in DEFAULT_CATALOGUE.outbound:
        assert found["outbound", intent] >= 120, intent


def test_evaluation_sets_cover_every_intent(evaluation: list[Example]) -> None:
    found = counts(evaluation)
    for intent in DEFAULT_CATALOGUE.inbound:
        assert found["inbound", intent] >= (120 if intent == "other" else 40), intent
    for intent in DEFAULT_CATALOGUE.outbound:
        assert found["outbound", intent] >= 30, intent


def test_no_evaluation_text_is_a_training_text(
    training: list[Example], evaluation: list[Example]
) -> None:
    seen = {(e.direction, text_key(e.text)): e for e in training}
    leaks = [
        f"{e.path}:{e.line}: {e.text!r} = {seen[key].path}:{seen[key].line}"
        for e in evaluation
        if (key := (e.direction, text_key(e.text))) in seen
    ]
    assert leaks == []


def test_decision_cases_are_held_out_except_the_specification_examples(
    training: list[Example],
) -> None:
    cases = load_workflow_cases(ROOT / "eval" / "workflow.yaml")
    trained = {text_key(e.text) for e in training if e.direction == "inbound"}
    allowed = {text_key(t) for t in SPEC_EXAMPLES}
    leaks = [c.text for c in cases if text_key(c.text) in trained - allowed]
    assert leaks == []
    assert len(cases) >= 250
    assert {c.expect for c in cases} == {"close", "ignore", "activate", "inactivate", "escalate"}


def test_decision_cases_include_the_specification_examples() -> None:
    cases = {
        (c.text, c.after): c.expect for c in load_workflow_cases(ROOT / "eval" / "workflow.yaml")
    }
    assert cases["no thanks", "offer_more_help"] == "close"
    assert cases["thanks!", None] == "ignore"
    assert cases["no it still doesn't work", "offer_more_help"] == "activate"
    assert cases["STOP", None] == "close"
