"""Snapshots are complete, independent shallow copies of the engine's records."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tidal.engine.core.model import Agent, AgentStatus, Awaiting, Conversation, State

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def _distinct_values(cls: type[Any]) -> dict[str, Any]:
    """A value for every field, each different from its default."""
    values: dict[str, Any] = {}
    for index, field in enumerate(dataclasses.fields(cls)):
        kind = str(field.type)
        if "datetime" in kind:
            values[field.name] = START + timedelta(seconds=index)
        elif "frozenset" in kind:
            values[field.name] = frozenset({f"skill-{index}"})
        elif "tuple" in kind:
            values[field.name] = (f"boost-{index}",)
        elif "dict" in kind:
            values[field.name] = {"inactivity": START + timedelta(seconds=index)}
        elif kind.startswith("bool"):
            values[field.name] = True
        elif "float" in kind:
            values[field.name] = float(index) + 0.5
        elif "int" in kind:
            values[field.name] = index + 7
        elif field.name == "state":
            values[field.name] = State.INACTIVE
        elif field.name == "awaiting":
            values[field.name] = Awaiting.CUSTOMER
        elif field.name == "status":
            values[field.name] = AgentStatus.BUSY
        else:
            values[field.name] = f"{field.name}-{index}"
    return values


@pytest.mark.parametrize("cls", [Conversation, Agent])
def test_snapshot_copies_every_field(cls: type[Any]) -> None:
    original = cls(**_distinct_values(cls))
    copied = original.snapshot()
    assert copied is not original
    for field in dataclasses.fields(cls):
        assert getattr(copied, field.name) == getattr(original, field.name), field.name
    assert copied == original


def test_changing_a_snapshot_leaves_the_original_alone() -> None:
    original = Conversation(**_distinct_values(Conversation))
    copied = original.snapshot()
    copied.state = State.CLOSED
    copied.agent_id = None
    assert original.state is State.INACTIVE and original.agent_id is not None
