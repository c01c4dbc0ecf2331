"""Counters the property tests fill in, reported at the end of the pytest run."""

from __future__ import annotations

#: examples and checked steps of the engine state machine (test_properties.py)
PROPERTY_RUNS: dict[str, int] = {"count": 0, "steps": 0}
