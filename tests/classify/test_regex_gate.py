"""Regex gates: the literals a regex cannot match without, so skipping it is safe."""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.classify.fakes import shipped_rules
from tidal.engine.classify.regex_gate import WordGates, required_literal_sets, required_literals


@pytest.mark.parametrize(
    ("expression", "gate"),
    [
        (r"\b(waited|waiting)\s+for", {"wait"}),
        (r"(?<!not )\b(urgent|emergency)\b", {"urgent", "emergency"}),
        (r"(ab|cd)e{0,3}xyz", {"xyz"}),
        (r"Feel free", {"feel free"}),
        (r"^ty+$", None),
        (r"a.b", None),
        (r"(unclosed", None),
    ],
)
def test_required_literals(expression: str, gate: set[str] | None) -> None:
    assert required_literals(expression) == (frozenset(gate) if gate is not None else None)


@cache
def _regexes() -> list[str]:
    shipped = [expression for rule in shipped_rules().rules for expression in rule.regex]
    return [*shipped, r"\b(waited|waiting)\s+\d+ hours?", r"(?i)Feel Free"]


@settings(deadline=None)
@given(st.text(alphabet="waitedforurgnthoskcyWAITED FEL 0123456789", max_size=40))
def test_a_gated_regex_never_matches_text_without_its_literals(text: str) -> None:
    for expression in _regexes():
        gate = required_literals(expression)
        if gate is not None and re.search(expression, text, re.IGNORECASE):
            assert any(word in text.lower() for word in gate)


@pytest.mark.parametrize(
    ("expression", "sets"),
    [
        (r"\b(waited|waiting)\s+for", [{"wait"}, {"ed", "ing"}, {"for"}]),
        (r"(?<!not )\b(urgent|emergency)\b", [{"urgent", "emergency"}]),
        (r"(ab|cd)e{0,3}xyz", [{"ab", "cd"}, {"xyz"}]),
        (r"have\s+a\s+(nice|good)\s+day\?", [{"have"}, {"a"}, {"nice", "good"}, {"day?"}]),
        (r"^ty+$", [{"t"}, {"y"}]),
        (r"a.b", [{"a"}, {"b"}]),
        (r"(unclosed", []),
    ],
)
def test_required_literal_sets(expression: str, sets: list[set[str]]) -> None:
    assert required_literal_sets(expression) == tuple(frozenset(s) for s in sets)


@settings(deadline=None)
@given(st.text(alphabet="waitedforurgnthoskcyWAITED FEL?'.,\n 0123456789", max_size=60))
def test_a_regex_matching_an_ascii_text_has_all_its_word_gates_open(text: str) -> None:
    expressions = _regexes()
    gates = WordGates([required_literal_sets(expression) for expression in expressions])
    satisfied = gates.satisfied(text.lower())
    for expression, needed in zip(expressions, gates.needed, strict=True):
        if re.search(expression, text, re.IGNORECASE):
            assert needed <= satisfied, expression


def test_word_gates_tell_regexes_apart() -> None:
    expressions = [r"\bhave\s+a\s+(nice|good)\s+day\b", r"any\s+other\s+thing"]
    gates = WordGates([required_literal_sets(expression) for expression in expressions])
    satisfied = gates.satisfied("have a nice one, or any other thing")
    assert [needed <= satisfied for needed in gates.needed] == [False, True]
