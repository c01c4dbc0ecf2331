"""Validation of the engine's rule files (docs/rules.md#validation): every error, with its line."""

from __future__ import annotations

import shutil
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tidal.engine.core.clock import ManualClock
from tidal.engine.core.intents import DEFAULT_CATALOGUE
from tidal.engine.core.settings import RoutingSettings
from tidal.engine.core.workflow import DEFAULT_WORKFLOW
from tidal.engine.rulesio.bundle import load_engine_rules, start_engine
from tidal.engine.rulesio.catalogue import load_catalogue
from tidal.engine.rulesio.durations import format_duration, parse_duration
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.engine.rulesio.routing import load_routing
from tidal.engine.rulesio.workflow import load_workflow

RULES = Path(__file__).resolve().parents[2] / "rules"
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def errors_of(load: object) -> list[tuple[int, str, str]]:
    """(line, code, message) of every error `load()` raises."""
    with pytest.raises(FilesInvalid) as caught:
        load()  # type: ignore[operator]
    return [(e.line, e.code, e.message) for e in caught.value.errors]


def codes_at(errors: list[tuple[int, str, str]]) -> list[tuple[int, str]]:
    return [(line, code) for line, code, _ in errors]


# -- the shipped files -----------------------------------------------------------------


def test_shipped_rules_are_valid_and_match_the_built_in_defaults() -> None:
    rules = load_engine_rules(RULES)
    assert rules.catalogue == DEFAULT_CATALOGUE
    assert rules.workflow == DEFAULT_WORKFLOW
    assert rules.routing.defaults == RoutingSettings().defaults
    assert rules.routing.agents == RoutingSettings().agents


def test_shipped_rule_two_is_close_when_no_more_help_needed() -> None:
    assert load_engine_rules(RULES).workflow.rules[1].id == "close-when-no-more-help-needed"


def test_an_engine_starts_on_the_shipped_rules() -> None:
    engine = start_engine(RULES, ManualClock(START))
    assert engine.workflow == DEFAULT_WORKFLOW
    assert engine.settings.for_channel("whatsapp").inactivity_timeout == timedelta(hours=1)


# -- workflow.yaml -------------------------------------------------------------------------


def test_workflow_errors_are_all_reported_with_their_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "workflow.yaml",
        """
        version: 1
        rules:
          - id: close-on-goodbye
            when: {direction: inbound, intent: goodbye}
            do: close
          - id: close-on-goodbye
            when: {direction: inbound, intent: farewell}
            do: close
          - id: wrong-action
            when: {direction: inbound}
            do: explode
          - id: unknown-key
            when: {direction: inbound, mood: happy}
            do: ignore
            colour: blue
          - id: inbound-hold
            when: {direction: inbound, intent: urgent}
            do: hold
          - id: after-needs-outbound
            when:
              direction: inbound
              intent: [deny, affirm]
              after: deny
            do: close
        """,
    )
    errors = errors_of(lambda: load_workflow(path, DEFAULT_CATALOGUE))
    assert codes_at(errors) == [
        (6, "T004"),  # duplicate id
        (7, "T005"),  # farewell is no inbound intent
        (11, "T003"),  # explode is no action
        (13, "T003"),  # mood
        (15, "T003"),  # colour
        (18, "T003"),  # hold is for outbound messages
        (23, "T005"),  # after: deny is an inbound intent
    ]
    messages = dict(((line, code), msg) for line, code, msg in errors)
    assert "farewell" in messages[(7, "T005")]
    assert "unknown key" in messages[(15, "T003")]


def test_error_lines_name_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "workflow.yaml",
        """
        version: 1
        rules:
          - id: r
            when: {intent: nonsense}
            do: ignore
        """,
    )
    with pytest.raises(FilesInvalid) as caught:
        load_workflow(path, DEFAULT_CATALOGUE)
    assert (
        str(caught.value) == f"{path}:4: [T005] unknown inbound/outbound intent 'nonsense'; "
        f"known: {', '.join(sorted(DEFAULT_CATALOGUE.inbound | DEFAULT_CATALOGUE.outbound))}"
    )


def test_rule_shadowed_by_an_earlier_broader_rule_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "workflow.yaml",
        """
        version: 1
        rules:
          - id: anything-inbound
            when: {direction: inbound}
            do: activate
          - id: goodbye-closes
            when: {direction: inbound, intent: goodbye}
            do: close
          - id: outbound-hold
            when: {direction: outbound, intent: hold, min_confidence: 0.5}
            do: hold
          - id: outbound-hold-confident
            when: {direction: outbound, intent: [hold], min_confidence: 0.9}
            do: hold
          - id: outbound-hold-unsure
            when: {direction: outbound, intent: hold}
            do: hold
        """,
    )
    errors = errors_of(lambda: load_workflow(path, DEFAULT_CATALOGUE))
    assert codes_at(errors) == [(6, "T006"), (12, "T006")]
    assert "'anything-inbound' (line 3)" in errors[0][2]


def test_duplicate_yaml_keys_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "workflow.yaml",
        """
        version: 1
        rules:
          - id: r
            do: ignore
            do: close
        """,
    )
    assert codes_at(errors_of(lambda: load_workflow(path, DEFAULT_CATALOGUE))) == [(5, "T002")]


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "workflow.yaml",
        """
        version: 1
        rules:
          - id: r
            do: [ignore
        """,
    )
    [(line, code, message)] = errors_of(lambda: load_workflow(path, DEFAULT_CATALOGUE))
    assert (line, code) == (4, "T001")
    assert message.startswith("a '[' opened on this line is not closed")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # a list item's key without its ':' (the parser gives up on the next line)
        ("version: 1\nrules:\n  - id: r\n    do ignore\n    reason: x\n", 4),
        # the same in a mapping: the value runs on into the next key
        ("version: 1\nrules:\n  - id: r\n    when:\n      intent deny\n      after: x\n", 5),
        # an unclosed quote is where it opens, not at the end of the file
        ("version: 1\nrules:\n  - id: 'r\n    do: ignore\n  - id: s\n    do: close\n", 3),
        # a tab, and a misplaced list item, are where they are
        ("version: 1\nrules:\n\t- id: r\n", 3),
        ("version: 1\nrules:\n  - id: r\n    do: ignore\n - id: s\n", 5),
    ],
)
def test_yaml_syntax_errors_are_reported_on_the_line_of_the_mistake(
    tmp_path: Path, text: str, line: int
) -> None:
    path = tmp_path / "workflow.yaml"
    path.write_text(text, encoding="utf-8")
    [(reported, code, _)] = errors_of(lambda: load_workflow(path, DEFAULT_CATALOGUE))
    assert (reported, code) == (line, "T001")


def test_workflow_condition_values_are_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "workflow.yaml",
        """
        version: 1
        rules:
          - id: r1
            when: {state: sleeping}
            do: ignore
          - id: r2
            when: {direction: sideways}
            do: ignore
          - id: r3
            when: {min_confidence: 1.5, awaiting: nobody}
            do: ignore
          - id: r4
            do: close
            sets: [vip]
        """,
    )
    assert codes_at(errors_of(lambda: load_workflow(path, DEFAULT_CATALOGUE))) == [
        (4, "T003"),
        (7, "T003"),
        (10, "T003"),
        (10, "T003"),
        (14, "T003"),
    ]


def test_intents_added_to_the_catalogue_are_accepted(tmp_path: Path) -> None:
    catalogue = tmp_path / "intents" / "catalogue.yaml"
    catalogue.parent.mkdir()
    text = (RULES / "intents" / "catalogue.yaml").read_text(encoding="utf-8")
    catalogue.write_text(
        text.replace(
            "  other: Anything substantive",
            "  complaint: The customer complains.\n  other: Anything substantive",
        ),
        encoding="utf-8",
    )
    path = write(
        tmp_path,
        "workflow.yaml",
        """
        version: 1
        rules:
          - id: escalate-complaints
            when: {direction: inbound, intent: complaint}
            do: escalate
        """,
    )
    rules = load_workflow(path, load_catalogue(catalogue))
    assert rules.rules[0].when.intents == frozenset({"complaint"})


# -- routing.yaml --------------------------------------------------------------------------


def test_routing_schema_errors_and_inconsistencies_are_reported_together(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "routing.yaml",
        """
        version: 1
        agents:
          preferred_concurrency: 6
          max_concurrency: 5
        defaults:
          inactivity_timeout: -30m
          target_min: 20m
          target_max: 15m
          pace_alpha: 0
          hold_grace: 5 minutes
          requeue_overdue: sometimes
        channels:
          sms:
            reopen_window: -1h
            colour: blue
        """,
    )
    errors = errors_of(lambda: load_routing(path))
    assert codes_at(errors) == [
        (3, "T009"),  # preferred above max
        (6, "T009"),  # negative duration
        (7, "T009"),  # target_min above target_max
        (9, "T009"),  # pace_alpha
        (10, "T003"),  # "5 minutes" is no duration
        (11, "T003"),  # not a boolean
        (14, "T009"),  # sms: negative reopen window
        (15, "T003"),  # unknown key in a channel
    ]
    assert (6, "T009", "inactivity_timeout must be a positive duration, not -30m") in errors
    assert (14, "T009", "channel 'sms': reopen_window must not be negative (-1h)") in errors


def test_an_invalid_setting_is_not_compared_through_its_default(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "routing.yaml",
        """
        version: 1
        defaults:
          target_min: 20m
          target_max: soon
        channels:
          sms:
            target_min: 16m
        """,
    )
    # target_max falls back to 15m while it is invalid: "target_min is above target_max"
    # would blame a value the file never set
    errors = errors_of(lambda: load_routing(path))
    assert codes_at(errors) == [(4, "T003")]
    assert "'soon' is not a duration" in errors[0][2]


def test_routing_inconsistencies_name_their_channel_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "routing.yaml",
        """
        version: 1
        agents:
          preferred_concurrency: 6
          max_concurrency: 5
        defaults:
          inactivity_timeout: -30m
          target_min: 20m
          target_max: 15m
          pace_alpha: 0
        channels:
          sms:
            reopen_window: -1h
          whatsapp:
            target_max: 10s
        """,
    )
    errors = errors_of(lambda: load_routing(path))
    assert codes_at(errors) == [
        (3, "T009"),  # preferred above max
        (6, "T009"),  # negative duration
        (7, "T009"),  # target_min above target_max
        (9, "T009"),  # pace_alpha
        (12, "T009"),  # sms: negative reopen window
        (14, "T009"),  # whatsapp: target_max below the default target_min
    ]
    assert "whatsapp" in errors[-1][2]


def test_channel_overrides_apply_most_specific_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "routing.yaml",
        """
        version: 1
        defaults:
          inactivity_timeout: 45m
        channels:
          whatsapp:
            inactivity_timeout: 2h
            requeue_overdue: true
        """,
    )
    settings = load_routing(path)
    assert settings.for_channel("whatsapp").inactivity_timeout == timedelta(hours=2)
    assert settings.for_channel("whatsapp").requeue_overdue
    assert settings.for_channel("sms").inactivity_timeout == timedelta(minutes=45)
    assert settings.for_channel(None).hold_grace == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45s", 45),
        ("30m", 1800),
        ("24h", 86400),
        ("2d", 172800),
        ("1h30m", 5400),
        ("-5m", -300),
        ("0.5s", 0.5),
    ],
)
def test_durations_are_readable_strings(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["30", "m", "5 minutes", "1.5.2h", "", "10x"])
def test_unreadable_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["3651d", "87601h", "99999999999d", "1e400d"])
def test_durations_longer_than_ten_years_are_refused(text: str) -> None:
    # deadlines are computed as now + duration: bounded so none leaves the calendar
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
    assert parse_duration("3650d") == timedelta(days=3650)


def test_negative_durations_print_back_readably() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (-5, -1800)] == ["-5s", "-30m"]


def test_durations_print_back_readably() -> None:
    assert [format_duration(timedelta(seconds=s)) for s in (30, 1800, 5400, 90061)] == [
        "30s",
        "30m",
        "1h30m",
        "1d1h1m1s",
    ]


# -- catalogue and the whole bundle ------------------------------------------------------


def test_catalogue_needs_the_fallback_intent_and_valid_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "catalogue.yaml",
        """
        version: 1
        inbound:
          greeting: Hello.
          Bad-Name: Nope.
          greeting: Twice.
        outbound:
          other: Anything.
        """,
    )
    assert codes_at(errors_of(lambda: load_catalogue(path))) == [(4, "T003"), (5, "T002")]


def test_catalogue_without_the_fallback_intent_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "catalogue.yaml",
        """
        version: 1
        inbound:
          greeting: Hello.
        outbound:
          other: Anything.
        """,
    )
    [(line, code, message)] = errors_of(lambda: load_catalogue(path))
    assert (line, code) == (2, "T003") and "'other'" in message


def test_bundle_reports_every_file_and_the_engine_does_not_start(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    base = tmp_path / "rules"
    workflow = (base / "workflow.yaml").read_text(encoding="utf-8")
    (base / "workflow.yaml").write_text(
        workflow.replace("intent: away", "intent: awaay"), encoding="utf-8"
    )
    routing = (base / "routing.yaml").read_text(encoding="utf-8")
    (base / "routing.yaml").write_text(
        routing.replace("max_concurrency: 5", "max_concurrency: 2"), encoding="utf-8"
    )
    with pytest.raises(FilesInvalid) as caught:
        start_engine(base, ManualClock(START))
    files = sorted({Path(e.path).name for e in caught.value.errors})
    assert files == ["routing.yaml", "workflow.yaml"]
    assert {e.code for e in caught.value.errors} == {"T005", "T009"}


def test_missing_rule_file_is_reported(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    (tmp_path / "rules" / "routing.yaml").unlink()
    with pytest.raises(FilesInvalid) as caught:
        load_engine_rules(tmp_path / "rules")
    assert [(Path(e.path).name, e.code) for e in caught.value.errors] == [("routing.yaml", "T008")]
