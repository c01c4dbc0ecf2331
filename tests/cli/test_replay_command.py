"""`tidal replay FILE.jsonl` (docs/cli.md#replay): output per message, and errors with line
numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tidal.service.cli import app

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"
runner = CliRunner()

SPEC_EXAMPLE = {
    "id": "conv-1",
    "agents": [{"id": "a-1", "preferred_concurrency": 2, "max_concurrency": 4}],
    "messages": [
        {"direction": "inbound", "text": "my card is blocked", "at": "2026-11-25T10:00:00Z"},
        {
            "direction": "outbound",
            "text": "Unblocked! Anything else I can help with?",
            "agent_id": "a-1",
        },
        {"direction": "inbound", "text": "no thanks"},
    ],
}
FIELDS = [
    "conversation_id",
    "index",
    "direction",
    "text",
    "intent",
    "confidence",
    "source",
    "action",
    "rule_id",
    "state",
    "awaiting",
    "agent_id",
    "routing_reason",
]


def _replay(tmp_path: Path, lines: list[str], *, stdin: bool = False) -> tuple[int, str, str]:
    args = [
        "replay",
        "-" if stdin else str(tmp_path / "in.jsonl"),
        "--rules",
        str(SHIPPED_RULES),
        "--models",
        str(tmp_path / "no-models"),
    ]
    text = "".join(line + "\n" for line in lines)
    if not stdin:
        (tmp_path / "in.jsonl").write_text(text, encoding="utf-8")
    result = runner.invoke(app, args, input=text if stdin else None)
    return result.exit_code, result.stdout, result.stderr


def test_spec_example_closes_after_no_thanks_to_an_offer_of_more_help(tmp_path: Path) -> None:
    code, out, err = _replay(tmp_path, [json.dumps(SPEC_EXAMPLE)])
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [list(r) for r in records] == [FIELDS] * 3
    first, second, third = records
    assert (
        first["index"],
        first["action"],
        first["state"],
        first["awaiting"],
        first["agent_id"],
        first["routing_reason"],
    ) == (0, "activate", "assigned", "agent", "a-1", "least_loaded")
    assert (second["intent"], second["action"], second["awaiting"]) == (
        "offer_more_help",
        "await_customer",
        "customer",
    )
    assert third == {
        "conversation_id": "conv-1",
        "index": 2,
        "direction": "inbound",
        "text": "no thanks",
        "intent": "deny",
        "confidence": 1.0,
        "source": "rule",
        "action": "close",
        "rule_id": "close-when-no-more-help-needed",
        "state": "closed",
        "awaiting": None,
        "agent_id": None,
        "routing_reason": "closed",
    }


def test_reads_standard_input_and_defaults_agents_and_times(tmp_path: Path) -> None:
    line = json.dumps(
        {
            "id": "c-2",
            "messages": [
                {"direction": "inbound", "text": "hi, my parcel is late"},
                {"direction": "outbound", "text": "One moment while I check that for you."},
                {"direction": "inbound", "text": "ok"},
            ],
        }
    )
    code, out, err = _replay(tmp_path, [line], stdin=True)
    assert code == 0, err
    records = [json.loads(r) for r in out.splitlines()]
    assert [r["agent_id"] for r in records] == ["a-1", "a-1", "a-1"]
    assert [r["action"] for r in records] == ["activate", "hold", "ignore"]


def test_conversations_replay_in_order_one_line_per_message(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": f"c-{n}", "messages": [{"direction": "inbound", "text": "STOP"}]})
        for n in range(3)
    ]
    code, out, _ = _replay(tmp_path, lines)
    assert code == 0
    assert [json.loads(r)["conversation_id"] for r in out.splitlines()] == ["c-0", "c-1", "c-2"]
    assert {json.loads(r)["rule_id"] for r in out.splitlines()} == {"close-on-opt-out"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "2: invalid JSON"),
        ('{"id": "x", "messages": []}', "2: messages: List should have at least 1 item"),
        ('{"id": "x", "messages": [{"direction": "up", "text": "hi"}]}', "2: messages.0.direction"),
        (
            '{"id": "x", "messages": [{"direction": "inbound", "text": "hi",'
            ' "at": "2026-01-01T10:00:00"}]}',
            "2: messages.0.at: Input should have timezone info",
        ),
        (
            '{"id": "x", "messages": [{"direction": "inbound", "text": "a",'
            ' "at": "2026-01-01T10:00:00Z"}, {"direction": "inbound", "text": "b",'
            ' "at": "2026-01-01T09:00:00Z"}]}',
            "2: messages.1.at",
        ),
        (
            '{"id": "x", "messages": [{"direction": "outbound", "text": "hi", "agent_id": "a-9"}]}',
            "2: messages.0.agent_id: unknown agent 'a-9'",
        ),
        (
            '{"id": "x", "agents": [{"id": "a-1", "preferred_concurrency": 6}],'
            ' "messages": [{"direction": "inbound", "text": "hi"}]}',
            "2: agents.0: preferred_concurrency (6) is above max_concurrency (5)",
        ),
        (
            '{"id": "x", "colour": "red", "messages": [{"direction": "inbound", "text": "hi"}]}',
            "2: colour: unknown key",
        ),
        ("[1, 2]", "2: a line must be a JSON object"),
    ],
)
def test_invalid_line_is_reported_with_its_line_number_and_nothing_is_replayed(
    tmp_path: Path, line: str, message: str
) -> None:
    code, out, err = _replay(tmp_path, [json.dumps(SPEC_EXAMPLE), line])
    assert code == 1
    assert out == ""
    assert f"{tmp_path / 'in.jsonl'}:{message}" in err


def test_every_invalid_line_is_reported(tmp_path: Path) -> None:
    code, _, err = _replay(tmp_path, ["{", "", "[]", json.dumps(SPEC_EXAMPLE)], stdin=True)
    assert code == 1
    assert [line.split(":")[1] for line in err.splitlines()] == ["1", "3"]
    assert err.startswith("<stdin>:1: invalid JSON")


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", str(tmp_path / "absent.jsonl")])
    assert result.exit_code == 2
