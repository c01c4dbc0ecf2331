"""`tidal data import sgd`: SGD's train turns into `training/data/<direction>/sgd.yaml`,
its dev turns and attribution into `training/external/sgd-workflow/` (validation only).

How many turns of each intent are kept is the weighting of SGD against Tidal's own data
(`training/README.md`, "Real conversations"): enough for the model to learn real
phrasing of requests, thanks and refusals, few enough that Tidal's own intents (away,
urgent, opt_out, hold, ...) keep their held-out quality.
"""

from __future__ import annotations

from pathlib import Path

import typer

from tidal.engine.core.intents import DIRECTIONS, Direction
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.training.dataset import (
    WORKFLOW_CASES_FILENAME,
    load_directory,
    load_workflow_cases,
    text_key,
)
from tidal.training.importers import sgd
from tidal.training.importers.tidal_yaml import write_examples

FILENAME = "sgd.yaml"
#: Per direction: the most `other` examples, and the most of every other intent.
CAPS: dict[Direction, tuple[int, int]] = {"inbound": (1000, 300), "outbound": (800, 700)}
#: Whether SGD's examples tune the per-intent thresholds too (measured, training/README.md):
#: on the inbound side Tidal's own intents set them; on the outbound side SGD's many real
#: offers and closings give thresholds that hold on its dev split (0.986 vs 0.974 outbound
#: accuracy) at the same held-out macro F1.
TUNES_THRESHOLDS: dict[Direction, bool] = {"inbound": False, "outbound": True}
#: Offers of more help after a report, joined from two SGD turns (`sgd.composite_offers`).
COMPOSITE_OFFERS = 300


def _known_texts(directory: Path, direction: Direction) -> frozenset[str]:
    """Texts of Tidal's own data (all but the SGD file) and of the held-out set."""
    if not directory.is_dir() or not any(directory.rglob("*.yaml")):
        return frozenset()
    examples = load_directory(directory, direction=direction)
    return frozenset(text_key(e.text) for e in examples if Path(e.path).name != FILENAME)


def _rule_intents(rules_dir: Path, direction: Direction) -> sgd.RuleIntent:
    """The intent the rules of `rules_dir` give a text (None without a rule match)."""
    from tidal.engine.classify.loading import load_rules
    from tidal.engine.classify.pipeline import Classifier

    classifier = Classifier(load_rules(rules_dir).intents)

    def rule_intent(text: str) -> str | None:
        found = classifier.classify(text, direction)
        return found.intent if found.source == "rule" else None

    return rule_intent


def import_sgd(
    source: Path, data_dir: Path, validation: Path, eval_dir: Path, rules_dir: Path
) -> None:
    """Write both directions' SGD training files and copy the validation split."""
    if not source.is_dir():
        raise typer.BadParameter(f"{source} is not the sgd-workflow folder", param_hint="SOURCE")
    try:
        for direction in DIRECTIONS:
            exclude = _known_texts(data_dir / direction, direction) | _known_texts(
                eval_dir / direction, direction
            )
            cases_file = eval_dir / WORKFLOW_CASES_FILENAME
            if direction == "inbound" and cases_file.is_file():
                exclude |= {text_key(c.text) for c in load_workflow_cases(cases_file)}
            cases = sgd.read_train(source, direction)
            max_other, max_per_intent = CAPS[direction]
            rule_intent = _rule_intents(rules_dir, direction)
            if direction == "inbound":
                chosen = sgd.select_inbound(
                    cases,
                    str(source / sgd.INBOUND_TRAIN),
                    max_other=max_other,
                    max_per_intent=max_per_intent,
                    exclude=exclude,
                    rule_intent=rule_intent,
                )
            else:
                chosen = sgd.select_outbound(
                    cases,
                    str(source / sgd.OUTBOUND_TRAIN),
                    max_other=max_other,
                    max_per_intent=max_per_intent,
                    exclude=exclude,
                    rule_intent=rule_intent,
                    composites=COMPOSITE_OFFERS,
                )
            out = data_dir / direction / FILENAME
            written = write_examples(
                chosen.examples,
                out,
                direction=direction,
                source=sgd.SOURCE,
                licence=sgd.LICENCE,
                tune_thresholds=TUNES_THRESHOLDS[direction],
            )
            typer.echo(
                f"wrote {written.examples} {direction} examples of {written.intents} intents "
                f"to {out} (from {len(cases)} turns)"
            )
            for reason, count in sorted(chosen.skipped.items()):
                typer.echo(f"    left out {count:6}  {reason}")
        copied, dropped = sgd.copy_validation(source, validation)
    except FilesInvalid as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"copied {len(copied)} validation files (dev split, attribution) to {validation}; "
        f"left out {dropped} dev customer turns whose pair also occurs in train"
    )
