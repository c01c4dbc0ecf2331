"""`tidal rules check [DIR]` and `tidal rules test [DIR]` (docs/rules.md#validation, docs/cli.md).

`check` validates the catalogue, workflow, routing and every intent rule file and
prints every error as `path:line: [code] message`. `test` runs the test cases written
beside the intent rules through the rules and through the whole pipeline. Both exit 1
when something is wrong and 2 on usage errors.

The options and the error handling here are shared by `classify` and `replay`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidal.training.cli_folders import folder

if TYPE_CHECKING:
    from tidal.engine.classify.loading import RuleSet
    from tidal.engine.classify.pipeline import Classifier

app = typer.Typer(
    help="Validate rule and settings files; run the rule test cases.", no_args_is_help=True
)

RULES_DIR = Annotated[
    Path,
    typer.Argument(
        help="The rules directory (default: rules/ under $TIDAL_HOME or here).",
        callback=folder("rules", "name the rules folder (tidal rules check DIR)"),
    ),
]
RULES_OPTION = Annotated[
    Path,
    typer.Option(
        "--rules",
        help="The rules directory (default: rules/ under $TIDAL_HOME or here).",
        callback=folder("rules", "pass --rules DIR"),
    ),
]
MODELS_OPTION = Annotated[
    Path,
    typer.Option(
        "--models",
        help="The models directory (models/inbound, models/outbound); a direction "
        "without a model is classified by its rules alone.",
        file_okay=False,
        callback=folder("models", "pass --models DIR", required=False),
    ),
]


@contextmanager
def exit_on_invalid_files() -> Iterator[None]:
    """Print every file error as `path:line: [code] message` and exit 1."""
    from tidal.engine.classify.model import ModelRefused
    from tidal.engine.rulesio.errors import FilesInvalid

    try:
        yield
    except FilesInvalid as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        typer.echo(f"{len(exc.errors)} error(s)", err=True)
        raise typer.Exit(1) from None
    except ModelRefused as exc:
        typer.echo(f"model refused: {exc}", err=True)
        raise typer.Exit(1) from None


def load_for_cli(rules_dir: Path, models_dir: Path) -> tuple[RuleSet, Classifier]:
    """Rules and classifier for a command; a direction without a model is said so."""
    from tidal.engine.classify.loading import load_rules, load_scorers
    from tidal.engine.classify.pipeline import Classifier
    from tidal.engine.core.intents import DIRECTIONS

    with exit_on_invalid_files():
        rule_set = load_rules(rules_dir)
        scorers = load_scorers(models_dir)
    for direction in DIRECTIONS:
        if direction not in scorers:
            typer.echo(
                f"note: no {direction} model under {models_dir}: {direction} messages are "
                "classified by the rules alone",
                err=True,
            )
    return rule_set, Classifier(rule_set.intents, scorers)


@app.command("check")
def check(rules_dir: RULES_DIR = Path("rules")) -> None:
    """Validate every rule and settings file; print all errors (exit 1) or "N files OK"."""
    from tidal.engine.classify.loading import load_rules, rule_files

    with exit_on_invalid_files():
        rule_set = load_rules(rules_dir)
    count = len(rule_files(rules_dir))
    typer.echo(
        f"{count} files OK ({len(rule_set.intents.rules)} intent rules, "
        f"{rule_set.intents.pattern_count} patterns, {len(rule_set.intents.tests)} test cases)"
    )


@app.command("test")
def test(
    rules_dir: RULES_DIR = Path("rules"),
    models: MODELS_OPTION = Path("models"),
) -> None:
    """Run the intent rules' test cases through the rules and the whole pipeline."""
    from rich.console import Console
    from rich.table import Table

    from tidal.engine.classify.rule_tests import failed_cases, run_rule_tests

    rule_set, classifier = load_for_cli(rules_dir, models)
    failures = run_rule_tests(classifier)
    cases = len(rule_set.intents.tests)
    if not failures:
        typer.echo(f"{cases} rule test cases passed (rules, spaCy agreement and pipeline)")
        return
    table = Table(title=f"{failed_cases(failures)} of {cases} rule test cases failed")
    for column in ("where", "stage", "direction", "text", "expected", "got"):
        table.add_column(column, overflow="fold")
    for failure in failures:
        case = failure.case
        table.add_row(
            f"{case.path}:{case.line}",
            failure.stage,
            case.direction,
            case.text,
            case.intent,
            failure.got,
        )
    Console(stderr=True, width=160).print(table)
    # The same failures as `path:line: [T010] ...` lines, for editors and scripts.
    for failure in failures:
        typer.echo(str(failure), err=True)
    raise typer.Exit(1)
