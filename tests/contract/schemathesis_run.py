"""Schemathesis over every operation of a running Tidal service, once per role.

Each role gets a fresh service (SQLite, manual clock, the shipped rules with a
table classifier) and a `schemathesis run` with every check against its
`/openapi.json`: status codes, content types, headers and bodies as documented, no
5xx, negative data refused, schema-valid data accepted, 405 with `Allow` for
undocumented methods, auth that is not ignored, and the stateful links between
operations. Two kinds of operation are run apart:

- the live event streams (SSE) never end while they are open, so schemathesis, which
  reads a whole body, cannot test their 200 answers; `tests/contract/test_role_matrix.py`
  covers them;
- `DELETE /v1/admin/tokens/{token_id}` revokes tokens, the admin's own among them, so
  the admin role fuzzes it last, in a run of its own.

`python -m tests.contract.schemathesis_run [--long]` prints the figures of each run and
one JSON line with their totals; `scripts/contract` runs it in its long mode.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from tests.service.conftest import RULES_DIR, LiveServer, issue_tokens, manual_settings, table_rules
from tidal.engine.rulesio.bundle import load_engine_rules
from tidal.service.http.app import create_app

CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = ("service", "supervisor", "a-1", "admin")
SSE = r"/events$"
REVOKE = "/v1/admin/tokens/{token_id}"


@dataclass
class Mode:
    """How hard to try: examples per operation, the phases run for every role, and the
    roles that also run the coverage phase (schemathesis' boundary and negative cases,
    about 500 requests whatever the number of examples)."""

    examples: int
    phases: str
    coverage_for: tuple[str, ...]
    seed: int = 1

    def phases_for(self, role: str) -> str:
        return f"{self.phases},coverage" if role in self.coverage_for else self.phases


#: every run of the test suite: random cases for every role; the boundary and negative
#: cases with the service token (POST /v1/messages is parsed outside the framework)
FAST = Mode(examples=3, phases="fuzzing", coverage_for=("service",))
#: scripts/contract: every phase for every role
LONG = Mode(examples=100, phases="examples,fuzzing,stateful", coverage_for=ROLES)


@dataclass
class RunResult:
    role: str
    scope: str
    exit_code: int
    generated: int
    with_failures: int
    unique_failures: int
    errored: int
    failures: list[str]
    seconds: float

    @property
    def clean(self) -> bool:
        return self.exit_code == 0 and self.unique_failures == 0 and self.errored == 0


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("schemathesis is not installed: scripts/setup installs the dev extra")
    return found


def run_role(role: str, mode: Mode, workdir: Path) -> list[RunResult]:
    """Fresh service, then schemathesis with `role`'s token (the revoking operation, for
    admins, in a second run at the end)."""
    engine_rules = load_engine_rules(RULES_DIR)
    settings = manual_settings(workdir)
    tokens = issue_tokens(settings.db_url)
    app = create_app(settings, rules=table_rules(engine_rules), access_log=False)
    if role == "admin":
        scopes = [
            ("all but revoke", ["--exclude-path-regex", SSE, "--exclude-path", REVOKE]),
            ("revoke", ["--include-path", REVOKE]),
        ]
    else:
        scopes = [("every operation", ["--exclude-path-regex", SSE])]
    with LiveServer(app) as server:
        _seed(server.url, tokens)
        return [
            _schemathesis_run(server.url, tokens[role], role, scope, filters, mode, workdir)
            for scope, filters in scopes
        ]


def _seed(url: str, tokens: dict[str, str]) -> None:
    """The agents of the agent tokens, and a conversation of each."""
    supervisor = {"Authorization": f"Bearer {tokens['supervisor']}"}
    service = {"Authorization": f"Bearer {tokens['service']}"}
    with httpx.Client(base_url=url, timeout=30) as client:
        for n, agent in enumerate(("a-1", "a-2"), 1):
            client.put(f"/v1/agents/{agent}", json={"status": "available"}, headers=supervisor)
            client.post(
                "/v1/messages",
                json={"message_id": f"m-{n}", "conversation_id": f"c-{n}",
                      "direction": "inbound", "text": "my card is blocked"},
                headers=service,
            ).raise_for_status()  # fmt: skip


def _schemathesis_run(
    url: str, token: str, role: str, scope: str, filters: list[str], mode: Mode, workdir: Path
) -> RunResult:
    report = workdir / f"report-{role}-{scope.replace(' ', '-')}.json"
    command = [
        _schemathesis(),
        "--config-file", str(CONFIG),
        "run", f"{url}/openapi.json",
        "--checks", "all",
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(mode.examples),
        "--phases", mode.phases_for(role),
        "--seed", str(mode.seed),
        "--request-timeout", "30",
        "--generation-database", "none",
        "--workers", "1",
        "--no-color",
        "--report", "json",
        "--report-json-path", str(report),
        *filters,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, check=False)
    seconds = time.perf_counter() - started
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        raise RuntimeError(f"schemathesis wrote no report:\n{done.stdout}\n{done.stderr}") from None
    cases = data["test_cases"]
    failures = [f"{f.get('title', f)}" for f in data.get("failures", [])]
    failures += [f"error: {e.get('title', e)}" for e in data.get("errors", [])]
    if (done.returncode != 0 and not failures) or done.returncode != 0:
        failures.append(done.stdout[-4000:])
    return RunResult(
        role=role,
        scope=scope,
        exit_code=done.returncode,
        generated=cases["generated"],
        with_failures=cases["with_failures"],
        unique_failures=cases["unique_failures"],
        errored=cases["errored"],
        failures=failures,
        seconds=round(seconds, 1),
    )


def run_all(mode: Mode, roles: tuple[str, ...] = ROLES) -> list[RunResult]:
    results = []
    for role in roles:
        with tempfile.TemporaryDirectory(prefix=f"tidal-contract-{role}-") as tmp:
            results.extend(run_role(role, mode, Path(tmp)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--long", action="store_true", help="100 examples, every phase")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    mode = dataclasses.replace(LONG if args.long else FAST, seed=args.seed)
    results = run_all(mode)
    for r in results:
        print(
            f"{r.role:<10} {r.scope:<16} cases {r.generated:>6}  failures {r.unique_failures}  "
            f"errors {r.errored}  {r.seconds:>6.1f} s"
        )
        for failure in r.failures:
            print("   ", failure)
    totals = {
        "bench": "schemathesis",
        "mode": "long" if args.long else "fast",
        "seed": mode.seed,
        "roles": len({r.role for r in results}),
        "cases": sum(r.generated for r in results),
        "unique_failures": sum(r.unique_failures for r in results),
        "errors": sum(r.errored for r in results),
        "seconds": round(sum(r.seconds for r in results), 1),
        "runs": [asdict(r) | {"failures": len(r.failures)} for r in results],
    }
    print(json.dumps(totals))
    sys.exit(0 if all(r.clean for r in results) else 1)


if __name__ == "__main__":
    main()
