"""Validation of intent rule files: every error, with its file, line and code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidal.engine.classify.rule_files import check_intent_rules, intent_rule_files
from tidal.engine.rulesio.errors import FileError


def _errors(tmp_path: Path, text: str) -> list[FileError]:
    folder = tmp_path / "intents"
    folder.mkdir(exist_ok=True)
    (folder / "mine.yaml").write_text(text, encoding="utf-8")
    rules, errors = check_intent_rules(intent_rule_files(tmp_path))
    assert rules is None or not errors
    return errors


def _lines(errors: list[FileError]) -> list[tuple[int, str]]:
    return [(e.line, e.code) for e in errors]


def test_invalid_spacy_pattern_is_reported_at_its_line_with_t007(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        """rules:
  - id: thanks
    direction: inbound
    intent: gratitude
    scope: whole
    patterns:
      - [{LOWER: thanks}]
      - [{LOWR: thanks}]
""",
    )
    assert _lines(errors) == [(8, "T007")]
    assert str(errors[0]).startswith(f"{tmp_path / 'intents' / 'mine.yaml'}:8: [T007] patterns.1")
    assert "LOWR" in errors[0].message


def test_every_error_of_every_rule_is_reported_not_just_the_first(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        """rules:
  - id: one
    direction: inbound
    intent: gratitude
    scope: everywhere
    phrases: [thanks]
  - id: two
    direction: inbound
    intent: gratefulness
    scope: whole
    patterns:
      - [{LOWER: thanks, OP: "??"}]
    regex: ["(unclosed"]
  - id: one
    direction: inbound
    intent: gratitude
    scope: whole
    phrases: [cheers]
    colour: blue
""",
    )
    assert _lines(errors) == [
        (5, "T003"),
        (9, "T005"),
        (12, "T007"),
        (13, "T007"),
        (19, "T003"),
    ]


def test_a_bad_operator_is_one_error_that_lists_the_operators(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        "rules:\n  - {id: x, direction: inbound, intent: deny, scope: whole,\n"
        '     patterns: [[{LOWER: nope, OP: "maybe"}]]}\n',
    )
    assert [(e.line, e.code, e.message) for e in errors] == [
        (
            3,
            "T007",
            "patterns.0: token 0 OP: 'maybe' is not an operator: use ? (optional), "
            "* (any number), + (one or more), ! (never) or a count such as {2} or {1,3}",
        )
    ]


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("{LOWER: 5}", "token 0 LOWER: should be text"),
        ("{LOWER: {IN: nope}}", "token 0 LOWER IN: should be a valid list"),
        ("{LOWER: {INN: [nope]}}", "token 0 LOWER INN: unknown predicate (IN, NOT_IN, REGEX, ...)"),
        ("{LOWR: nope}", "token 0 LOWR: unknown token attribute"),
    ],
)
def test_a_bad_token_value_is_one_error_in_plain_words(
    tmp_path: Path, token: str, message: str
) -> None:
    errors = _errors(
        tmp_path,
        "rules:\n  - {id: x, direction: inbound, intent: deny, scope: whole,\n"
        f"     patterns: [[{token}]]}}\n",
    )
    assert [e.message for e in errors] == [f"patterns.0: {message}"]


def test_duplicate_rule_ids_across_files_point_to_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "intents"
    folder.mkdir()
    rule = (
        "rules:\n  - {id: same, direction: inbound, intent: deny, scope: whole, phrases: [nope]}\n"
    )
    (folder / "a.yaml").write_text(rule, encoding="utf-8")
    (folder / "b.yaml").write_text(rule, encoding="utf-8")
    _, errors = check_intent_rules(intent_rule_files(tmp_path))
    assert [(Path(e.path).name, e.line, e.code) for e in errors] == [("b.yaml", 2, "T004")]
    assert "a.yaml:2" in errors[0].message


def test_unquoted_yes_and_no_get_a_clear_message(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        "rules:\n  - {id: x, direction: inbound, intent: deny, scope: whole, "
        "patterns: [[{LOWER: no}]]}\n",
    )
    assert _lines(errors) == [(2, "T007")]
    assert "quote the word" in errors[0].message


def test_capitalised_lower_values_can_never_match_and_are_refused(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        "rules:\n  - {id: x, direction: inbound, intent: opt_out, scope: whole, "
        "patterns: [[{LOWER: STOP}]]}\n",
    )
    assert _lines(errors) == [(2, "T007")]
    assert "never match" in errors[0].message


@pytest.mark.parametrize(
    ("snippet", "code"),
    [
        ("rules:\n  - {id: x, direction: inbound, intent: deny, scope: whole}\n", "T003"),
        (
            "rules:\n  - {id: x, direction: inbound, intent: deny, scope: anywhere,"
            " allow: [gratitude], phrases: [nah]}\n",
            "T003",
        ),
        (
            "rules:\n  - {id: x, direction: outbound, intent: deny, scope: whole,"
            " phrases: [nah]}\n",
            "T005",
        ),
        ("tests:\n  - {text: hi, intent: greeting}\n", "T003"),
        (
            "rules:\n  - {id: x, direction: inbound, intent: deny, scope: whole, phrases: [nah]}\n"
            "tests:\n  - {text: hi, intent: salutation}\n",
            "T005",
        ),
        ("rules: [\n", "T001"),
        ("rules: []\nrules: []\n", "T002"),
    ],
)
def test_malformed_files_get_stable_codes(tmp_path: Path, snippet: str, code: str) -> None:
    assert [e.code for e in _errors(tmp_path, snippet)] == [code]


def test_catalogue_file_is_not_read_as_intent_rules(tmp_path: Path) -> None:
    folder = tmp_path / "intents"
    folder.mkdir()
    (folder / "catalogue.yaml").write_text("inbound: {}\n", encoding="utf-8")
    (folder / "b.yaml").write_text("rules: []\n", encoding="utf-8")
    (folder / "a.yaml").write_text("rules: []\n", encoding="utf-8")
    assert [p.name for p in intent_rule_files(tmp_path)] == ["a.yaml", "b.yaml"]


def test_unquoted_no_in_a_phrase_list_gets_a_clear_message(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        "rules:\n  - {id: x, direction: inbound, intent: deny, scope: whole, phrases: [no]}\n",
    )
    assert _lines(errors) == [(2, "T003")]
    assert "quote it" in errors[0].message


def test_attributes_that_need_a_trained_pipeline_are_refused(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        "rules:\n  - {id: x, direction: inbound, intent: urgent, scope: anywhere, "
        "patterns: [[{POS: NOUN}, {LOWER: fraud}]]}\n",
    )
    assert _lines(errors) == [(2, "T007")]
    assert "trained spaCy pipeline" in errors[0].message
