"""`tidal train` and `tidal evaluate` (docs/models.md, docs/cli.md).

`train` never replaces the model in use silently: it writes `models/<direction>-candidate/`,
and only `--promote` moves a candidate into `models/<direction>/`, after checking on the
held-out set that it is at least as good as the model it replaces (`--force` overrides).

Heavy libraries are imported inside the commands so `tidal --help` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tidal.engine.core.intents import DIRECTIONS, Direction
from tidal.training.cli_folders import folder

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from tidal.engine.classify.model import IntentModel
    from tidal.training.dataset import Example
    from tidal.training.estimator import IntentClassifier
    from tidal.training.evaluation import Evaluation


DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        help="Training data directory (default: under $TIDAL_HOME or here).",
        callback=folder("training data", "pass --data DIR"),
    ),
]
EvalOption = Annotated[
    Path,
    typer.Option(
        "--eval",
        help="Held-out evaluation directory, never trained on (default: under $TIDAL_HOME "
        "or here).",
        callback=folder("held-out evaluation", "pass --eval DIR"),
    ),
]
ModelsOption = Annotated[
    Path,
    typer.Option(
        "--models",
        help="Directory of model directories (default: under $TIDAL_HOME or here).",
        callback=folder("models", "pass --models DIR", required=False),
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _directions(direction: str | None) -> list[Direction]:
    if direction is None:
        return list(DIRECTIONS)
    for known in DIRECTIONS:
        if direction == known:
            return [known]
    raise typer.BadParameter(f"must be inbound or outbound, not {direction!r}")


def train(
    direction: Annotated[
        str | None,
        typer.Option("--direction", "-d", help="inbound or outbound (default: both)."),
    ] = None,
    data: DataOption = Path("training/data"),
    eval_dir: EvalOption = Path("training/eval"),
    models: ModelsOption = Path("models"),
    promote: Annotated[
        bool, typer.Option("--promote", help="Replace the model in use if not worse.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --promote: replace even a better model.")
    ] = False,
    c: Annotated[float, typer.Option("--C", min=1e-4, help="LinearSVC regularisation.")] = 1.0,
    vectors: Annotated[
        int,
        typer.Option(
            "--vectors",
            min=0,
            max=256,
            help="Add this many columns of static word vectors (needs tidal\\[vectors]; 0: none).",
        ),
    ] = 0,
    vector_weight: Annotated[
        float,
        typer.Option("--vector-weight", min=0.01, help="Weight of the word-vector columns."),
    ] = 1.0,
    encoder: Annotated[
        bool,
        typer.Option(
            "--encoder",
            help="Make a cascade model: the sentence encoder (models/encoder) decides where "
            "the n-gram model is unsure or names an intent that closes or escalates.",
        ),
    ] = False,
    encoder_weight: Annotated[
        float, typer.Option("--encoder-weight", min=0.01, help="Weight of the encoder's logits.")
    ] = 0.75,
    encoder_gate: Annotated[
        float,
        typer.Option(
            "--encoder-gate",
            min=0.0,
            max=1.01,
            help="The encoder decides where the n-gram model's top probability is below this.",
        ),
    ] = 0.9,
    rules: Annotated[
        Path, typer.Option("--rules", help="Rules directory (its workflow names costly intents).")
    ] = Path("rules"),
) -> None:
    """Train intent models from training data; write candidates (or promote them)."""
    if force and not promote:
        raise typer.BadParameter("--force only makes sense with --promote", param_hint="--force")
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tidal.engine.rulesio.errors import FilesInvalid
    from tidal.training.estimator import IntentClassifier
    from tidal.training.workflow import train_direction

    if encoder and vectors > 0:
        raise typer.BadParameter(
            "--encoder and --vectors cannot be combined", param_hint="--encoder"
        )
    if encoder:
        from tidal.engine.classify.encoder import EncoderRefused, shared_encoder

        try:
            shared_encoder()
        except EncoderRefused as error:
            raise _fail(f"--encoder: {error}") from None
    if vectors > 0:
        from tidal.engine.classify.vectors import VectorsUnavailable, shared_vectors

        try:
            shared_vectors()
        except VectorsUnavailable as error:
            raise _fail(f"--vectors: {error}") from None
    for name in _directions(direction):
        confirm: list[str] = []
        if encoder:
            from tidal.training.workflow import costly_intents

            try:
                confirm = costly_intents(rules, name)
            except FilesInvalid as error:
                raise _fail(str(error)) from None
        classifier = IntentClassifier(
            C=c,
            vector_components=vectors,
            vector_weight=vector_weight,
            encoder_weight=encoder_weight if encoder else 0.0,
            encoder_gate=encoder_gate,
            encoder_confirm=tuple(confirm),
        )
        candidate = models / f"{name}-candidate"
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[step]}"),
            TimeElapsedColumn(),
            transient=False,
        ) as bar:
            task = bar.add_task(f"training {name}", total=None, step="loading data")

            def advance(step: str, task_id: TaskID = task, bar: Progress = bar) -> None:
                bar.update(task_id, advance=1, step=step)

            try:
                _set_total(bar, task, data / name, classifier)
                trained = train_direction(
                    data, eval_dir, name, candidate, classifier, progress=advance
                )
            except FilesInvalid as error:
                raise _fail(str(error)) from None
            except ValueError as error:
                raise _fail(f"{data / name}: {error}") from None
        typer.echo(f"wrote {trained.path} ({trained.metadata['version']})")
        if trained.evaluation is not None:
            _print_evaluation(trained.metadata["version"], trained.evaluation)
        if promote:
            _promote(candidate, models / name, eval_dir, force)


def _set_total(bar: Progress, task: TaskID, directory: Path, classifier: IntentClassifier) -> None:
    """Size the progress bar: threshold folds + final fit + evaluation."""
    from tidal.training.dataset import load_directory

    labels = [e.intent for e in load_directory(directory)]
    if len(set(labels)) >= 2:
        bar.update(task, total=classifier.threshold_folds(labels) + 2)


def _promote(candidate: Path, in_use: Path, eval_dir: Path, force: bool) -> None:
    from tidal.engine.classify.model import IntentModel, ModelRefused
    from tidal.training.export import swap_into_place
    from tidal.training.workflow import load_eval_examples

    new = IntentModel.load(candidate)
    try:
        current: IntentModel | None = IntentModel.load(in_use) if in_use.exists() else None
    except ModelRefused as error:
        typer.echo(f"the model in use cannot be loaded, replacing it: {error}")
        current = None
    if current is not None:
        held_out = load_eval_examples(eval_dir, new.direction)
        if not held_out and not force:
            raise _fail(f"no held-out examples to compare {candidate} with {in_use}; use --force")
        if held_out:
            texts, truth = [e.text for e in held_out], [e.intent for e in held_out]
            new_score = _macro_f1(new, texts, truth)
            old_score = _macro_f1(current, texts, truth)
            typer.echo(
                f"held-out macro F1: candidate {new_score:.4f}, in use {old_score:.4f} "
                f"({current.version})"
            )
            if old_score > new_score and not force:
                raise _fail(
                    f"refusing to replace {in_use} ({current.version}, macro F1 "
                    f"{old_score:.4f}) with a worse model ({new_score:.4f}); "
                    "pass --force to do it anyway"
                )
    swap_into_place(candidate, in_use.resolve())
    typer.echo(f"promoted {new.version} to {in_use}")


def _macro_f1(model: IntentModel, texts: list[str], truth: list[str]) -> float:
    from tidal.training.evaluation import evaluate_model

    return evaluate_model(model, texts, truth).macro_f1


def _print_evaluation(title: str, evaluation: Evaluation) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{title}: held-out set, {evaluation.examples} messages")
    for column in ("intent", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "intent" else "right")
    for s in evaluation.per_intent:
        table.add_row(
            s.intent, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support)
        )
    console = Console()
    console.print(table)
    console.print(f"accuracy {evaluation.accuracy:.4f}   macro F1 {evaluation.macro_f1:.4f}")
    pairs = evaluation.confused_pairs(8)
    if pairs:
        console.print(
            "most confused (true -> predicted): "
            + ", ".join(f"{t} -> {p} ({n})" for t, p, n in pairs)
        )


def evaluate(
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            "-m",
            help="One model directory to evaluate (default: the models in use, "
            "MODELS/inbound and MODELS/outbound).",
            show_default=False,
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(help="With --model: the model to compare with (default: MODELS/<direction>)."),
    ] = None,
    models: ModelsOption = Path("models"),
    eval_dir: EvalOption = Path("training/eval"),
    data: DataOption = Path("training/data"),
    cv: Annotated[
        int | None,
        typer.Option("--cv", min=2, max=20, help="Also K-fold cross-validate on training data."),
    ] = None,
    errors: Annotated[
        int,
        typer.Option(
            "--errors",
            min=0,
            help="List up to N held-out messages the rules and this model get wrong, "
            "with the stage, rule or model that decided and the runner-up.",
        ),
    ] = 0,
    rules: Annotated[
        Path,
        typer.Option(
            "--rules",
            help="Rules directory used with --errors (default: rules/ under $TIDAL_HOME or here).",
            callback=folder("rules", "pass --rules DIR", required=False),
        ),
    ] = Path("rules"),
    report: Annotated[
        Path,
        typer.Option(
            "--report",
            help="Where to write each direction's report.md and confusion_matrix.png.",
        ),
    ] = Path("evaluation"),
) -> None:
    """Per-intent precision/recall/F1, confusions and a confusion-matrix PNG on the
    held-out sets of both directions; compare with the model in use; CV on request."""
    if model is None and against is not None:
        raise typer.BadParameter("--against only makes sense with --model", param_hint="--against")
    if model is not None:
        paths = [model]
    else:
        paths = [models / direction for direction in DIRECTIONS if (models / direction).is_dir()]
        if not paths:
            raise _fail(
                f"no model in {models.absolute()} (inbound/ or outbound/): train one with "
                "`tidal train --promote`, or name one with --model"
            )
    for path in paths:
        _evaluate_one(path, against, models, eval_dir, data, cv, report, errors, rules)


def _evaluate_one(
    model: Path,
    against: Path | None,
    models: Path,
    eval_dir: Path,
    data: Path,
    cv: int | None,
    report: Path,
    errors: int = 0,
    rules: Path = Path("rules"),
) -> None:
    from tidal.engine.classify.model import IntentModel, ModelRefused
    from tidal.engine.rulesio.errors import FilesInvalid
    from tidal.training.evaluation import evaluate_model
    from tidal.training.report import (
        CONFUSION_FILENAME,
        REPORT_FILENAME,
        evaluation_report,
        write_confusion_png,
    )
    from tidal.training.workflow import load_eval_examples

    try:
        candidate = IntentModel.load(model)
        held_out = load_eval_examples(eval_dir, candidate.direction)
    except ModelRefused as error:
        raise _fail(str(error)) from None
    except FilesInvalid as error:
        raise _fail(str(error)) from None
    if not held_out:
        raise _fail(f"{eval_dir / candidate.direction}: no held-out examples to evaluate on")
    texts, truth = [e.text for e in held_out], [e.intent for e in held_out]
    result = evaluate_model(candidate, texts, truth)
    _print_evaluation(candidate.version, result)
    comparison: str | None = None
    reference = against or models / candidate.direction
    if reference.exists() and reference.resolve() != model.resolve():
        try:
            in_use = IntentModel.load(reference)
        except ModelRefused as error:
            raise _fail(str(error)) from None
        other = evaluate_model(in_use, texts, truth)
        delta = result.macro_f1 - other.macro_f1
        comparison = (
            f"compared with {reference} ({in_use.version}): macro F1 {other.macro_f1:.4f} -> "
            f"{result.macro_f1:.4f} ({delta:+.4f}), accuracy {other.accuracy:.4f} -> "
            f"{result.accuracy:.4f}"
        )
        typer.echo(comparison)
    out = report / candidate.direction
    out.mkdir(parents=True, exist_ok=True)
    title = f"{candidate.version}\nheld-out {candidate.direction} set, {result.examples} messages"
    write_confusion_png(result, out / CONFUSION_FILENAME, title)
    (out / REPORT_FILENAME).write_text(
        evaluation_report(
            candidate.version,
            candidate.direction,
            model,
            eval_dir / candidate.direction,
            result,
            comparison,
        ),
        encoding="utf-8",
    )
    typer.echo(f"wrote {out / REPORT_FILENAME} and {out / CONFUSION_FILENAME}")
    if errors:
        _print_errors(candidate, held_out, rules, errors)
    if cv is not None:
        _cross_validate(candidate, data, cv)


def _print_errors(model: IntentModel, held_out: list[Example], rules: Path, limit: int) -> None:
    from tidal.engine.classify.loading import load_rules
    from tidal.engine.classify.pipeline import Classifier
    from tidal.engine.rulesio.errors import FilesInvalid
    from tidal.training.errors import misclassified

    try:
        classifier = Classifier(load_rules(rules).intents, {model.direction: model})
    except FilesInvalid as error:
        raise _fail(str(error)) from None
    wrong = misclassified(classifier, held_out, model.direction)
    typer.echo(
        f"{len(wrong)} of {len(held_out)} held-out messages wrong with the rules of {rules} "
        f"and this model" + (f"; the first {limit}:" if len(wrong) > limit else ":")
    )
    for mistake in wrong[:limit]:
        typer.echo(f"  {mistake.describe()}")


def _cross_validate(model: IntentModel, data: Path, folds: int) -> None:
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    from tidal.engine.rulesio.errors import FilesInvalid
    from tidal.training.dataset import load_directory
    from tidal.training.estimator import IntentClassifier
    from tidal.training.evaluation import score

    try:
        examples = load_directory(data / model.direction, direction=model.direction)
    except FilesInvalid as error:
        raise _fail(str(error)) from None
    texts = np.asarray([e.text for e in examples], dtype=object)
    labels = np.asarray([e.intent for e in examples])
    params = model.metadata.get("classifier", {})
    vectors = model.metadata.get("features", {}).get("vectors") or {}
    encoder = model.metadata.get("features", {}).get("encoder") or {}
    accuracies, macro_f1s = [], []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for number, (train, test) in enumerate(splitter.split(texts, labels), start=1):
        fitted = IntentClassifier(
            C=float(params.get("C", 1.0)),
            calibration=model.calibration,
            vector_components=int(vectors.get("components", 0)),
            vector_weight=float(vectors.get("weight", 1.0)),
            encoder_weight=float(encoder.get("weight", 0.0)),
            encoder_gate=float(encoder.get("gate", 0.9)),
            encoder_confirm=tuple(encoder.get("confirm", ())),
            encoder_C=float(encoder.get("C", 10.0)),
            encoder_confirm_floor=float(encoder.get("confirm_floor", 0.05)),
        ).fit(list(texts[train]), list(labels[train]))
        result = score(list(labels[test]), list(fitted.predict(list(texts[test]))), model.labels)
        accuracies.append(result.accuracy)
        macro_f1s.append(result.macro_f1)
        typer.echo(
            f"fold {number}/{folds}: accuracy {result.accuracy:.4f} macro F1 {result.macro_f1:.4f}"
        )
    typer.echo(
        f"{folds}-fold cross-validation on {data / model.direction}: accuracy "
        f"{np.mean(accuracies):.4f} ± {np.std(accuracies):.4f}, macro F1 "
        f"{np.mean(macro_f1s):.4f} ± {np.std(macro_f1s):.4f}"
    )


def register(app: typer.Typer) -> None:
    """Add `train` and `evaluate` to the root `tidal` command."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through `tidal train` / `tidal evaluate`")
