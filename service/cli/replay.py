"""`tidal replay FILE.jsonl`: dry-run conversations through rules, models and engine.

Reads one conversation per line (SPEC 7; `-` reads standard input) and prints one JSON
line per message, in order. The whole input is validated before anything is replayed:
invalid lines are reported as `FILE:line: message` on standard error with exit code 1
and no output. No database is used; each conversation runs on its own engine with a
manual clock (see `engine.replay`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from service.cli.rules import MODELS_OPTION, RULES_OPTION, load_for_cli


def replay(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="JSON Lines file of conversations, or - for standard input."
        ),
    ],
    rules: RULES_OPTION = Path("rules"),
    models: MODELS_OPTION = Path("models"),
) -> None:
    """Replay conversations and print what every message did, one JSON line each."""
    lines, source = _read(file)
    from engine.replay import Replayer, ReplayProblem, parse_lines

    conversations, problems = parse_lines(lines, source)
    if problems:
        _report(problems)
    rule_set, classifier = load_for_cli(rules, models)
    replayer = Replayer(classifier, rule_set.engine.routing, rule_set.engine.workflow)
    failed: list[ReplayProblem] = []
    out = sys.stdout
    for item in replayer.replay_all(conversations, source):
        if isinstance(item, ReplayProblem):
            failed.append(item)
        else:
            out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
    out.flush()
    if failed:
        _report(failed)


def _read(file: str) -> tuple[list[str], str]:
    if file == "-":
        return sys.stdin.read().splitlines(), "<stdin>"
    path = Path(file)
    try:
        return path.read_text(encoding="utf-8").splitlines(), file
    except FileNotFoundError:
        raise typer.BadParameter(f"{file}: no such file", param_hint="FILE") from None
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"{file}:1: cannot read: {exc}", err=True)
        raise typer.Exit(1) from None


def _report(problems: Sequence[object]) -> NoReturn:
    for problem in problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(1)
