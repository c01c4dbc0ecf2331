"""Report how many examples the engine's state machine ran, even without `-s`."""

from __future__ import annotations

from _pytest.terminal import TerminalReporter

from tests.engine.stats import PROPERTY_RUNS


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    if PROPERTY_RUNS["count"]:
        terminalreporter.write_line(
            f"engine state machine: {PROPERTY_RUNS['count']} examples, "
            f"{PROPERTY_RUNS['steps']} steps with every invariant checked"
        )
