"""Running the test cases written beside the intent rules (`tests:` in rule files).

Each case is checked three ways:

- rules: a rule that matches must give the expected intent, and a case expecting
  `other` must match no rule (the rules stay precise);
- agreement: the compiled matcher must find exactly the spans spaCy's own `Matcher`
  and `PhraseMatcher` find;
- pipeline: the whole classifier (rules, model, fallback) must give the expected intent
  (not checked again when a rule already gave the wrong one: the pipeline would repeat it).
"""

from __future__ import annotations

from dataclasses import dataclass

from tidal.engine.classify.intent_rules import RuleTestCase
from tidal.engine.classify.normalize import normalize
from tidal.engine.classify.pipeline import Classifier
from tidal.engine.classify.rule_matcher import IntentRuleMatcher
from tidal.engine.classify.spacy_spans import SpacySpanFinder
from tidal.engine.core.intents import FALLBACK_INTENT


@dataclass(frozen=True, slots=True)
class RuleTestFailure:
    """One case that did not come out as written."""

    case: RuleTestCase
    stage: str  # "rules", "agreement" or "pipeline"
    got: str

    def __str__(self) -> str:
        return (
            f"{self.case.path}:{self.case.line}: [T010] {self.stage}: {self.case.text!r} "
            f"({self.case.direction}) expected {self.case.intent}, got {self.got}"
        )


def run_rule_tests(classifier: Classifier) -> list[RuleTestFailure]:
    """Every failure of every test case of the classifier's rules (empty: all pass).

    A case can fail more than one check (no rule matched, and the model said something
    else): count failed cases with `failed_cases`.
    """
    reference = IntentRuleMatcher(classifier.rules, classifier.tokenizer, SpacySpanFinder)
    failures: list[RuleTestFailure] = []
    for case in classifier.rules.tests:
        tokens = classifier.tokenizer(normalize(case.text))
        rule = classifier.matcher.match(tokens, case.direction)
        if rule is not None and rule.intent != case.intent:
            failures.append(RuleTestFailure(case, "rules", f"{rule.intent} (rule {rule.id})"))
        elif rule is None and case.intent == FALLBACK_INTENT:
            pass
        elif rule is None:
            failures.append(RuleTestFailure(case, "rules", "no rule match"))
        fast = classifier.matcher.finder(case.direction).spans(tokens)
        slow = reference.finder(case.direction).spans(tokens)
        if fast != slow:
            failures.append(RuleTestFailure(case, "agreement", f"spans {fast} but spaCy {slow}"))
        if rule is not None and rule.intent != case.intent:
            continue  # the pipeline answers with that same rule
        result = classifier.classify(case.text, case.direction)
        if result.intent != case.intent:
            source = result.rule_id or result.model_version or result.source
            failures.append(
                RuleTestFailure(case, "pipeline", f"{result.intent} ({result.source}: {source})")
            )
    return failures


def failed_cases(failures: list[RuleTestFailure]) -> int:
    """How many test cases the failures belong to."""
    return len({failure.case for failure in failures})
