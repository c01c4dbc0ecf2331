"""Loading a rules directory and model directory into a ready `Classifier`.

The file-reading edge of classification: the engine rules (catalogue, workflow,
routing) and the intent rules are validated together, and every error of every file
is raised in one `FilesInvalid`, so a platform team fixes them all in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tidal.engine.classify.intent_rules import IntentRules
from tidal.engine.classify.rule_files import check_intent_rules, intent_rule_files
from tidal.engine.core.intents import DEFAULT_CATALOGUE, DIRECTIONS, Direction, IntentCatalogue
from tidal.engine.rulesio.errors import FileError, FilesInvalid

if TYPE_CHECKING:
    from tidal.engine.classify.pipeline import Classifier
    from tidal.engine.classify.ports import IntentScorer
    from tidal.engine.rulesio.bundle import EngineRules


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything a rules directory holds: engine rules and intent rules."""

    engine: EngineRules
    intents: IntentRules


def rule_files(rules_dir: Path | str) -> list[Path]:
    """Every file `load_rules` reads: catalogue, workflow, routing, intent rules."""
    from tidal.engine.rulesio.bundle import CATALOGUE_FILE, ROUTING_FILE, WORKFLOW_FILE

    base = Path(rules_dir)
    engine_files = [base / CATALOGUE_FILE, base / WORKFLOW_FILE, base / ROUTING_FILE]
    return [*engine_files, *intent_rule_files(rules_dir)]


def load_rules(rules_dir: Path | str) -> RuleSet:
    """Validate and load every rule and settings file of `rules_dir`.

    Raises `FilesInvalid` with the errors of all files together.
    """
    from tidal.engine.rulesio.bundle import load_engine_rules
    from tidal.engine.rulesio.catalogue import load_catalogue

    errors: list[FileError] = []
    engine_rules: EngineRules | None = None
    try:
        engine_rules = load_engine_rules(rules_dir)
    except FilesInvalid as exc:
        errors.extend(exc.errors)
    catalogue: IntentCatalogue
    if engine_rules is not None:
        catalogue = engine_rules.catalogue
    else:
        try:
            catalogue = load_catalogue(Path(rules_dir) / "intents" / "catalogue.yaml")
        except FilesInvalid:
            catalogue = DEFAULT_CATALOGUE  # its errors are already in the list
    intents, intent_errors = check_intent_rules(intent_rule_files(rules_dir), catalogue)
    errors.extend(intent_errors)
    if errors or engine_rules is None or intents is None:
        raise FilesInvalid(errors)
    return RuleSet(engine_rules, intents)


def load_scorers(models_dir: Path | str | None) -> dict[Direction, IntentScorer]:
    """The models found under `models_dir/inbound` and `models_dir/outbound`.

    A direction without a model directory gets none: its messages are classified by
    the rules alone, and whatever they do not match is `other`.
    """
    scorers: dict[Direction, IntentScorer] = {}
    if models_dir is None:
        return scorers
    from tidal.engine.classify.model import IntentModel

    for direction in DIRECTIONS:
        path = Path(models_dir) / direction
        if path.is_dir():
            scorers[direction] = IntentModel.load(path)
    return scorers


def load_classifier(rules_dir: Path | str, models_dir: Path | str | None) -> Classifier:
    """A classifier with the intent rules of `rules_dir` and the models of `models_dir`."""
    from tidal.engine.classify.pipeline import Classifier

    return Classifier(load_rules(rules_dir).intents, load_scorers(models_dir))
