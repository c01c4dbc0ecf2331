"""IntentClassifier and SpacyNormalizer follow scikit-learn's estimator contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from tidal.training.estimator import IntentClassifier
from tidal.training.normalizer import SpacyNormalizer


def test_normalizer_lemmatises_lower_cased_tokens() -> None:
    assert SpacyNormalizer().fit_transform(["My cards WERE  blocked!"]) == ["my card be block !"]


def test_normalizer_keeps_emoji_as_tokens() -> None:
    assert SpacyNormalizer().fit_transform(["thanks🙏"]) == ["thank 🙏"]


def test_init_only_stores_parameters_and_clone_keeps_them() -> None:
    model = IntentClassifier(C=2.0, threshold_beta=1.0)
    assert model.get_params()["C"] == 2.0
    assert clone(model).get_params() == model.get_params()
    assert not [name for name in vars(model) if name.endswith("_")]


def test_fit_returns_self_and_sets_learned_attributes(
    tiny_texts: tuple[list[str], list[str]],
) -> None:
    texts, labels = tiny_texts
    model = IntentClassifier(threshold_cv=3)
    assert model.fit(texts, labels) is model
    assert list(model.classes_) == ["gratitude", "greeting", "other"]
    assert set(model.thresholds_) == {"gratitude", "greeting", "other"}
    assert model.oof_proba_.shape == (len(texts), 3)


def test_predicting_before_fit_raises_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        IntentClassifier().predict(["hi"])


def test_probabilities_sum_to_one_and_follow_classes(
    tiny_texts: tuple[list[str], list[str]],
) -> None:
    texts, labels = tiny_texts
    model = IntentClassifier(threshold_cv=3).fit(texts, labels)
    proba = model.predict_proba(["hello there", "thanks a million", "my card was stolen"])
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert [model.classes_[i] for i in proba.argmax(axis=1)] == ["greeting", "gratitude", "other"]


def test_top_intent_below_its_threshold_falls_back_to_other(
    tiny_texts: tuple[list[str], list[str]],
) -> None:
    texts, labels = tiny_texts
    model = IntentClassifier(threshold_cv=3).fit(texts, labels)
    model.thresholds_ = {"greeting": 1.01, "gratitude": 0.0, "other": 0.0}
    assert list(model.predict(["hello there", "thanks a million"])) == ["other", "gratitude"]


def test_intent_with_too_few_examples_is_refused_by_name() -> None:
    texts = ["hi", "hello", "hey", "yo", "thanks", "ty"]
    labels = ["greeting"] * 4 + ["gratitude"] * 2
    with pytest.raises(ValueError, match="gratitude"):
        IntentClassifier().fit(texts, labels)
