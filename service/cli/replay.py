"""`tidal replay FILE.jsonl`: dry-run conversations through rules, models and engine.

Reads one conversation per line (docs/cli.md#replay; `-` reads standard input) and prints one JSON
line per message, in order. The whole input is validated before anything is replayed:
invalid lines are reported as `FILE:line: message` on standard error with exit code 1
and no output. No database is used; each conversation runs on its own engine with a
manual clock (see `tidal.engine.replay`). `--compare RULES_A RULES_B` replays the same input
under both and prints only the decisions that differ (see `tidal.engine.replay_compare`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from tidal.service.cli.rules import MODELS_OPTION, RULES_OPTION, load_for_cli

if TYPE_CHECKING:
    from tidal.engine.replay import ReplayConversation


def replay(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", help="JSON Lines file of conversations, or - for standard input."
        ),
    ],
    rules: RULES_OPTION = Path("rules"),
    models: MODELS_OPTION = Path("models"),
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            "--compare",
            metavar="RULES_A RULES_B",
            help="What-if: replay under two rules directories and print every decision "
            "that differs (one JSON line each), then a summary line with counts by "
            "intent and action and the first examples of each change.",
        ),
    ] = None,
    compare_models: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            "--compare-models",
            metavar="MODELS_A MODELS_B",
            help="With --compare: a models directory for each side (default: --models).",
        ),
    ] = None,
) -> None:
    """Replay conversations and print what every message did, one JSON line each."""
    lines, source = _read(file)
    from tidal.engine.replay import Replayer, ReplayProblem, parse_lines

    conversations, problems = parse_lines(lines, source)
    if problems:
        _report(problems)
    if compare_models is not None and compare is None:
        raise typer.BadParameter("needs --compare RULES_A RULES_B", param_hint="--compare-models")
    if compare is not None:
        for directory in compare:
            if not directory.is_dir():
                raise typer.BadParameter(f"{directory}: not a directory", param_hint="--compare")
        sides = compare_models or (models, models)
        _what_if(conversations, source, (compare[0], sides[0]), (compare[1], sides[1]))
        return
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


def _what_if(
    conversations: Sequence[ReplayConversation],
    source: str,
    side_a: tuple[Path, Path],
    side_b: tuple[Path, Path],
) -> None:
    from tidal.engine.replay import Replayer, ReplayProblem, ReplayRecord
    from tidal.engine.replay_compare import compare_records

    records: list[list[ReplayRecord]] = []
    failed: list[ReplayProblem] = []
    for rules_dir, models_dir in (side_a, side_b):
        rule_set, classifier = load_for_cli(rules_dir, models_dir)
        replayer = Replayer(classifier, rule_set.engine.routing, rule_set.engine.workflow)
        side: list[ReplayRecord] = []
        for item in replayer.replay_all(conversations, source):
            if isinstance(item, ReplayProblem):
                failed.append(item)
            else:
                side.append(item)
        records.append(side)
    comparison = compare_records(records[0], records[1])
    out = sys.stdout
    for change in comparison.changes:
        out.write(json.dumps(change.to_json(), ensure_ascii=False) + "\n")
    out.write(json.dumps({"what_if": comparison.summary()}, ensure_ascii=False) + "\n")
    out.flush()
    typer.echo(
        f"{len(comparison.changes)} of {comparison.messages} decisions changed "
        f"({side_a[0]} -> {side_b[0]})",
        err=True,
    )
    counts = [*comparison.by_intent.most_common(), *comparison.by_action.most_common()]
    for what, count in counts:
        typer.echo(f"  {count:6d}  {what}", err=True)
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
