"""Schemathesis with every check over every operation, with each role's token, against
a running service: no failures (`tests/contract/schemathesis_run.py`; its long mode is
`scripts/contract`)."""

from __future__ import annotations

import pytest

from tests.contract.schemathesis_run import FAST, run_all


@pytest.mark.slow
def test_schemathesis_finds_no_failure_for_any_role() -> None:
    results = run_all(FAST)
    assert {r.role for r in results} == {"service", "supervisor", "a-1", "admin"}
    assert all(r.generated > 0 for r in results)
    failed = [r for r in results if not r.clean]
    assert not failed, "\n\n".join(
        f"{r.role} ({r.scope}):\n" + "\n".join(r.failures) for r in failed
    )
