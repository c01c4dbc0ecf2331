"""What the classification pipeline needs from a trained intent model.

`tidal.engine.classify.model.IntentModel` implements this; tests use small fakes. Keeping the
pipeline on a Protocol lets it run with any scorer (or none) and keeps model loading,
which reads files, out of the classification logic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from tidal.engine.core.intents import Direction


@runtime_checkable
class IntentScorer(Protocol):
    """A per-direction intent model: probabilities for every label it knows."""

    @property
    def version(self) -> str:
        """Identifies the trained artifact (reported as `model_version`)."""
        ...

    @property
    def direction(self) -> Direction:
        """The direction of the messages it was trained on."""
        ...

    @property
    def labels(self) -> Sequence[str]:
        """Every intent the model can predict."""
        ...

    @property
    def thresholds(self) -> dict[str, float]:
        """Per-intent minimum probability for the model's answer to be trusted."""
        ...

    def predict_proba(self, text: str) -> list[tuple[str, float]]:
        """(intent, probability) for every label, most probable first."""
        ...


@runtime_checkable
class LemmaIntentScorer(IntentScorer, Protocol):
    """A scorer that can start from the lemma text the pipeline has already computed.

    The pipeline tokenizes every message for the rules; handing the model the same
    lower-case lemmas joined by spaces (`tidal.engine.classify.features.lemma_text`) spares
    it a second tokenization.
    """

    def predict_proba_lemmas(self, lemma_text: str) -> list[tuple[str, float]]:
        """`predict_proba` of a message given as its lemma text."""
        ...


@runtime_checkable
class CascadeIntentScorer(IntentScorer, Protocol):
    """A scorer with a second, slower stage (the sentence encoder) for hard messages.

    It reads the lemma text for its fast model and the normalised text for the encoder,
    and says which stage decided, so a classification can report it (source `encoder`).
    """

    def predict_proba_cascade(
        self, lemma_text: str, text: str
    ) -> tuple[list[tuple[str, float]], bool]:
        """(intent, probability) for every label, most probable first (except that a
        message the encoder stage finds out of scope has the model's out-of-scope label
        first); and whether the encoder stage decided."""
        ...
