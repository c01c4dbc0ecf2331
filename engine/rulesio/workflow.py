"""`rules/workflow.yaml`: ordered workflow rules (docs/rules.md#workflow-rules), validated as
docs/rules.md#validation says.

    version: 1
    rules:
      - id: close-when-no-more-help-needed
        when: {direction: inbound, intent: [deny, gratitude, goodbye], after: offer_more_help}
        do: close
        reason: customer_declined_more_help

Beyond the schema: duplicate ids (T004), intents the catalogue does not know for the
rule's direction (T005), and rules that can never fire because an earlier rule
matches everything they match (T006).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from tidal.engine.core.intents import DIRECTIONS, Direction, IntentCatalogue
from tidal.engine.core.model import Action
from tidal.engine.core.workflow import (
    OUTBOUND_ONLY_ACTIONS,
    Conditions,
    WorkflowRule,
    WorkflowRules,
    shadowed_rules,
)
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.engine.rulesio.located import LocatedDocument, read_yaml, validate


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]
RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)]
StateName = Literal["new", "queued", "assigned", "inactive", "closed"]
AwaitingName = Literal["agent", "customer", "none"]
OneOrMany = BeforeValidator(_one_or_many)


class WhenModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Direction | None = None
    intent: Annotated[list[Name], OneOrMany, Field(min_length=1)] | None = None
    after: Annotated[list[Name], OneOrMany, Field(min_length=1)] | None = None
    state: Annotated[list[StateName], OneOrMany, Field(min_length=1)] | None = None
    awaiting: Annotated[list[AwaitingName], OneOrMany, Field(min_length=1)] | None = None
    channel: Annotated[list[Name], OneOrMany, Field(min_length=1)] | None = None
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: RuleId
    when: WhenModel = Field(default_factory=WhenModel)
    do: Action
    reason: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")] | None = None
    sets: list[Literal["opted_out"]] = Field(default_factory=list)


class WorkflowFile(BaseModel):
    """The file's outline; each rule is validated on its own so one bad rule does not
    hide the problems of the others."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    rules: list[Any] = Field(min_length=1)


def workflow_from(doc: LocatedDocument, catalogue: IntentCatalogue | None) -> WorkflowRules | None:
    """The rules in `doc`, or None with every problem appended to `doc.errors`.

    With `catalogue` None (itself invalid) intents are not checked.
    """
    outline = validate(doc, WorkflowFile)
    if outline is None:
        return None
    errors_before = len(doc.errors)
    valid: list[tuple[int, RuleModel]] = []
    for i, item in enumerate(outline.rules):
        model = _validate_rule(doc, i, item)
        if model is not None:
            valid.append((i, model))
    first_line: dict[str, int] = {}
    for i, rule in valid:
        where = ("rules", i, "id")
        if rule.id in first_line:
            doc.errors.append(
                doc.error(
                    where,
                    "T004",
                    f"duplicate rule id {rule.id!r} (first used on line {first_line[rule.id]})",
                )
            )
        else:
            first_line[rule.id] = doc.line_of(where)
        if catalogue is not None:
            _check_intents(doc, i, rule, catalogue)
        if rule.do in OUTBOUND_ONLY_ACTIONS and rule.when.direction == "inbound":
            doc.errors.append(
                doc.error(
                    ("rules", i, "do"),
                    "T003",
                    f"rules.{i}.do: {rule.do.value} applies only to outbound (agent) messages",
                )
            )
    rules = tuple(_rule(model) for _, model in valid)
    for index, earlier in shadowed_rules(rules):
        at, earlier_at = valid[index][0], valid[earlier][0]
        doc.errors.append(
            doc.error(
                ("rules", at),
                "T006",
                f"rule {rules[index].id!r} can never fire: rule "
                f"{rules[earlier].id!r} (line "
                f"{doc.line_of(('rules', earlier_at))}) comes first and "
                "matches every message it matches",
            )
        )
    if len(doc.errors) > errors_before:
        return None
    return WorkflowRules(rules)


def _validate_rule(doc: LocatedDocument, i: int, item: Any) -> RuleModel | None:
    prefix = ("rules", i)
    lines = {loc[2:]: line for loc, line in doc.lines.items() if loc[:2] == prefix}
    single = LocatedDocument(doc.path, item, lines)
    model = validate(single, RuleModel)
    for error in single.errors:
        doc.errors.append(dataclasses.replace(error, message=f"rules.{i}.{error.message}"))
    return model


def _check_intents(
    doc: LocatedDocument, i: int, rule: RuleModel, catalogue: IntentCatalogue
) -> None:
    directions: tuple[Direction, ...] = (
        (rule.when.direction,) if rule.when.direction is not None else DIRECTIONS
    )
    known = frozenset().union(*(catalogue.for_direction(d) for d in directions))
    for j, intent in enumerate(rule.when.intent or ()):
        if intent not in known:
            doc.errors.append(
                doc.error(
                    ("rules", i, "when", "intent", j),
                    "T005",
                    f"unknown {'/'.join(directions)} intent {intent!r}; "
                    f"known: {', '.join(sorted(known))}",
                )
            )
    for j, intent in enumerate(rule.when.after or ()):
        if intent not in catalogue.outbound:
            known_outbound = ", ".join(sorted(catalogue.outbound))
            doc.errors.append(
                doc.error(
                    ("rules", i, "when", "after", j),
                    "T005",
                    f"`after` names an outbound intent; {intent!r} is "
                    f"not one (known: {known_outbound})",
                )
            )


def _set(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values is not None else None


def _rule(model: RuleModel) -> WorkflowRule:
    w = model.when
    return WorkflowRule(
        id=model.id,
        when=Conditions(
            direction=w.direction,
            intents=_set(w.intent),
            after=_set(w.after),
            states=_set(list(w.state)) if w.state is not None else None,
            awaiting=_set(list(w.awaiting)) if w.awaiting is not None else None,
            channels=_set(w.channel),
            min_confidence=w.min_confidence,
        ),
        do=model.do,
        reason=model.reason,
        sets=frozenset(model.sets),
    )


def load_workflow(path: Path | str, catalogue: IntentCatalogue) -> WorkflowRules:
    """Read and validate a workflow file; raises `FilesInvalid` with every error."""
    doc = read_yaml(path)
    workflow = workflow_from(doc, catalogue)
    if workflow is None or doc.errors:
        raise FilesInvalid(doc.errors)
    return workflow
