"""`tidal data import` and `tidal data check`: bring public data into Tidal's YAML
format, and validate data directories (`training/data/README.md`).

Exit codes: 0 success, 1 invalid data (every error printed as `path:line: [code] what`),
2 usage error.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tidal.engine.core.intents import DEFAULT_CATALOGUE, DIRECTIONS, Direction
from tidal.engine.rulesio.errors import FileError, FilesInvalid
from tidal.training.cli_folders import folder
from tidal.training.dataset import (
    WORKFLOW_CASES_FILENAME,
    Example,
    load_directory,
    load_workflow_cases,
)

app = typer.Typer(
    help="Intent data: import public data sets, validate data files.",
    no_args_is_help=True,
)


class Importer(StrEnum):
    clinc150 = "clinc150"
    banking77 = "banking77"
    rasa = "rasa"
    sgd = "sgd"
    multiwoz = "multiwoz"


class Split(StrEnum):
    train = "train"
    val = "val"
    test = "test"
    oos_train = "oos_train"
    oos_val = "oos_val"
    oos_test = "oos_test"


def _direction(value: str) -> Direction:
    for known in DIRECTIONS:
        if value == known:
            return known
    raise typer.BadParameter(
        f"must be inbound or outbound, not {value!r}", param_hint="--direction"
    )


def _print_errors(errors: list[FileError]) -> None:
    for error in errors:
        typer.echo(str(error), err=True)
    typer.echo(f"{len(errors)} error(s)", err=True)


@app.command("import")
def import_data(
    kind: Annotated[Importer, typer.Argument(help="Format of SOURCE.")],
    source: Annotated[
        Path,
        typer.Argument(
            help="File to import (sgd: the sgd-workflow folder; multiwoz: a folder with "
            "MultiWOZ 2.1 val.json / train.json, optionally zipped).",
            exists=True,
            readable=True,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Tidal YAML file to write (sgd: data directory, training/data; multiwoz: "
            "folder for the labelled turns, training/external/multiwoz-workflow).",
        ),
    ] = None,
    direction: Annotated[
        str, typer.Option("--direction", "-d", help="inbound or outbound.")
    ] = "inbound",
    map_to_tidal: Annotated[
        bool,
        typer.Option(
            "--map-to-tidal",
            help="clinc150: greeting, goodbye, thank_you, yes, no to Tidal intents, the rest "
            "to other. banking77: every query to other.",
        ),
    ] = False,
    split: Annotated[
        Split, typer.Option("--split", help="clinc150 split to import.")
    ] = Split.train,
    source_note: Annotated[
        str | None, typer.Option("--source", help="Provenance written to the file.")
    ] = None,
    licence: Annotated[
        str | None,
        typer.Option("--licence", help="Licence written to the file (required for rasa)."),
    ] = None,
    validation: Annotated[
        Path,
        typer.Option("--validation", help="sgd: where the dev split and attribution go."),
    ] = Path("training/external/sgd-workflow"),
    eval_dir: Annotated[
        Path, typer.Option("--eval", help="sgd: held-out data whose texts are left out.")
    ] = Path("training/eval"),
    rules_dir: Annotated[
        Path, typer.Option("--rules", help="sgd: rules whose matches overrule SGD's labels.")
    ] = Path("rules"),
) -> None:
    """Convert SOURCE into Tidal's YAML data format."""
    if kind is Importer.sgd:
        from tidal.training.sgd_import import import_sgd

        import_sgd(source, out or Path("training/data"), validation, eval_dir, rules_dir)
        return
    if kind is Importer.multiwoz:
        _import_multiwoz(source, out or Path("training/external/multiwoz-workflow"))
        return
    if out is None:
        raise typer.BadParameter("say which file to write", param_hint="--out")
    if source.is_dir():
        raise typer.BadParameter(f"{source} is a directory; {kind.value} reads a file")
    chosen = _direction(direction)
    if kind is Importer.rasa and map_to_tidal:
        raise typer.BadParameter(
            "rasa intents are kept as they are; name them like Tidal's", param_hint="--map-to-tidal"
        )
    if kind is Importer.rasa and not licence:
        raise typer.BadParameter("say under which licence the Rasa data is", param_hint="--licence")
    try:
        examples, default_source, default_licence = _read(kind, source, chosen, map_to_tidal, split)
    except FilesInvalid as exc:
        _print_errors(exc.errors)
        raise typer.Exit(1) from exc

    from tidal.training.importers.tidal_yaml import write_examples

    written = write_examples(
        examples,
        out,
        direction=chosen,
        source=source_note or default_source,
        licence=licence or default_licence,
    )
    typer.echo(f"wrote {written.examples} examples of {written.intents} intents to {out}")
    if written.repeats_skipped or written.conflicts_skipped:
        typer.echo(
            f"left out {written.repeats_skipped} repeated texts and "
            f"{written.conflicts_skipped} texts already labelled with another intent"
        )
    unknown = sorted({e.intent for e in examples} - DEFAULT_CATALOGUE.for_direction(chosen))
    if unknown:
        typer.echo(
            f"note: {len(unknown)} intents are not in Tidal's {chosen} catalogue (kept for "
            "benchmarking); `tidal data check` rejects them in training data"
        )


def _import_multiwoz(source: Path, target: Path) -> None:
    from tidal.training.importers import multiwoz

    if not source.is_dir():
        raise typer.BadParameter(f"{source} is not a MultiWOZ folder", param_hint="SOURCE")
    try:
        found = multiwoz.import_multiwoz(source, target)
    except FilesInvalid as exc:
        _print_errors(exc.errors)
        raise typer.Exit(1) from exc
    for split, turns in found.items():
        inbound = Counter(c["expected_action"] for c in turns.inbound)
        outbound = Counter(c["expected_label"] for c in turns.outbound)
        typer.echo(
            f"{split}: {len(turns.inbound)} customer turns {dict(sorted(inbound.items()))}, "
            f"{len(turns.outbound)} agent turns {dict(sorted(outbound.items()))} → {target}"
        )


def _read(
    kind: Importer, source: Path, direction: Direction, map_to_tidal: bool, split: Split
) -> tuple[list[Example], str, str]:
    if kind is Importer.clinc150:
        from tidal.training.importers import clinc150

        splits = clinc150.read_clinc150(source, map_to_tidal=map_to_tidal, direction=direction)
        if split.value not in splits:
            raise typer.BadParameter(f"{source} has no split {split.value!r}", param_hint="--split")
        note = f"{clinc150.SOURCE}, {split.value} split"
        return splits[split.value], note, clinc150.LICENCE
    if kind is Importer.banking77:
        from tidal.training.importers import banking77

        examples = banking77.read_banking77(source, map_to_tidal=map_to_tidal, direction=direction)
        return examples, f"{banking77.SOURCE}, {source.name}", banking77.LICENCE
    from tidal.training.importers import rasa

    return rasa.read_rasa(source, direction=direction), f"Rasa NLU data, {source.name}", ""


@app.command("check")
def check(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Data directory (default: training/data under $TIDAL_HOME or here).",
            callback=folder("training data", "name the data folder (tidal data check DIR)"),
        ),
    ] = Path("training/data"),
) -> None:
    """Validate every data file below DIRECTORY and count examples per intent."""
    errors: list[FileError] = []
    examples: list[Example] = []
    try:
        examples = load_directory(directory)
    except FilesInvalid as exc:
        errors.extend(exc.errors)
    cases = 0
    for path in sorted(directory.rglob(WORKFLOW_CASES_FILENAME)):
        try:
            cases += len(load_workflow_cases(path))
        except FilesInvalid as exc:
            errors.extend(exc.errors)
    if errors:
        _print_errors(sorted(errors))
        raise typer.Exit(1)
    counts = Counter((e.direction, e.intent) for e in examples)
    for (direction, intent), count in sorted(counts.items()):
        typer.echo(f"{direction:9} {intent:18} {count:6}")
    typer.echo(
        f"{len(examples)} examples" + (f", {cases} decision cases" if cases else "") + ": ok"
    )
