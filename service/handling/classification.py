"""Classifying a text off the engine thread when that gives the same answer.

A message's classification must belong to the rule generation whose workflow it meets.
The cache and the classifier process (`tidal.service.classifier.process`) answer for one
generation; asked while that generation is active they save the engine thread the work,
otherwise the engine thread classifies (`tidal.service.handling.accept`).
"""

from __future__ import annotations

import time

from tidal.engine.core.intents import Classification, Direction
from tidal.service.running.rules import ActiveRules, CachedClassifier
from tidal.service.running.services import Services


async def classify_early(
    services: Services, rules: ActiveRules, text: str, direction: Direction
) -> Classification | None:
    """The text's classification for `rules` from the cache or the classifier process,
    or None to leave it to the engine thread (no helper, or not one for `rules`)."""
    helper = services.classifier_process
    if helper is None or not helper.alive or helper.generation != rules.generation:
        return None
    classifier = rules.classifier
    cache = classifier if isinstance(classifier, CachedClassifier) else None
    if cache is not None:
        started = time.perf_counter()
        known = cache.cached(text, direction)
        if known is not None:
            services.metrics.classify_seconds.observe(time.perf_counter() - started)
            return known
    classification = await helper.classify(text, direction)
    if classification is not None and cache is not None:
        cache.remember(text, direction, classification)
    return classification


async def classify_only(services: Services, text: str, direction: Direction) -> Classification:
    """`POST /v1/classify`: the text's classification under the active rules, no state
    involved, so the helper's answer for these rules is the answer."""
    rules = services.rules
    result = await classify_early(services, rules, text, direction)
    if result is None:
        classifier = rules.classifier
        result = await services.runtime.compute(lambda: classifier.classify(text, direction))
    return result
