"""The rule set the engine runs on: catalogue, workflow and routing settings together.

    rules/
      intents/catalogue.yaml
      workflow.yaml
      routing.yaml

`load_engine_rules` validates all three and raises `FilesInvalid` with every error of
every file, so the engine never starts (and a service never reloads) on a broken set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tidal.engine.core.clock import Clock
from tidal.engine.core.engine import Engine
from tidal.engine.core.intents import IntentCatalogue
from tidal.engine.core.settings import RoutingSettings
from tidal.engine.core.store import Store
from tidal.engine.core.workflow import WorkflowRules
from tidal.engine.rulesio.catalogue import catalogue_from
from tidal.engine.rulesio.errors import FileError, FilesInvalid
from tidal.engine.rulesio.located import read_yaml
from tidal.engine.rulesio.routing import routing_from
from tidal.engine.rulesio.workflow import workflow_from

CATALOGUE_FILE = Path("intents") / "catalogue.yaml"
WORKFLOW_FILE = Path("workflow.yaml")
ROUTING_FILE = Path("routing.yaml")


@dataclass(frozen=True, slots=True)
class EngineRules:
    catalogue: IntentCatalogue
    workflow: WorkflowRules
    routing: RoutingSettings


def load_engine_rules(rules_dir: Path | str) -> EngineRules:
    """Validate and load the engine's rule files under `rules_dir`."""
    base = Path(rules_dir)
    errors: list[FileError] = []

    catalogue_doc = read_yaml(base / CATALOGUE_FILE)
    catalogue = catalogue_from(catalogue_doc)
    errors += catalogue_doc.errors

    workflow_doc = read_yaml(base / WORKFLOW_FILE)
    # with a broken catalogue the intents cannot be checked; its errors say why
    workflow = workflow_from(workflow_doc, catalogue)
    errors += workflow_doc.errors

    routing_doc = read_yaml(base / ROUTING_FILE)
    routing = routing_from(routing_doc)
    errors += routing_doc.errors

    if errors or catalogue is None or workflow is None or routing is None:
        raise FilesInvalid(errors)
    return EngineRules(catalogue, workflow, routing)


def start_engine(rules_dir: Path | str, clock: Clock, store: Store | None = None) -> Engine:
    """An engine on the rules under `rules_dir`; refuses (FilesInvalid) if any is invalid."""
    rules = load_engine_rules(rules_dir)
    return Engine(rules.routing, rules.workflow, clock, store)
