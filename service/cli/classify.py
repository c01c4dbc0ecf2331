"""`tidal classify TEXT --direction inbound`: one message's classification as JSON."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tidal.service.cli.rules import MODELS_OPTION, RULES_OPTION, load_for_cli


class DirectionChoice(StrEnum):
    inbound = "inbound"
    outbound = "outbound"


def classify(
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help="The message, as the customer or agent wrote it.")
    ],
    direction: Annotated[
        DirectionChoice, typer.Option(help="Who wrote it: the customer or the agent.")
    ] = DirectionChoice.inbound,
    rules: RULES_OPTION = Path("rules"),
    models: MODELS_OPTION = Path("models"),
) -> None:
    """Classify one message (rules, then model, then fallback) and print it as JSON."""
    _, classifier = load_for_cli(rules, models)
    result = classifier.classify(text, direction.value)
    typer.echo(json.dumps(classification_json(result), ensure_ascii=False))


def classification_json(result: object) -> dict[str, object]:
    """A `Classification` as the API shows it (docs/http-api.md)."""
    from tidal.engine.core.intents import Classification

    assert isinstance(result, Classification)
    return {
        "intent": result.intent,
        "confidence": result.confidence,
        "source": result.source,
        "rule_id": result.rule_id,
        "model_version": result.model_version,
        "alternatives": [
            {"intent": a.intent, "confidence": a.confidence} for a in result.alternatives
        ],
    }
