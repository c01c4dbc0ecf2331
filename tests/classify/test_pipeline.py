"""The classification pipeline: rules win, then the model above its threshold, else other."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.classify.fakes import SHIPPED_RULES, FakeCascadeScorer, FakeScorer, rules_from_yaml
from tidal.engine.classify.loading import load_classifier, load_rules
from tidal.engine.classify.pipeline import Classifier
from tidal.engine.core.intents import Alternative, Classification
from tidal.engine.rulesio.errors import FilesInvalid

RULES = """
rules:
  - id: thanks
    direction: inbound
    intent: gratitude
    scope: whole
    phrases: [thanks]
"""


def _classifier(tmp_path: Path, scorer: FakeScorer) -> Classifier:
    return Classifier(rules_from_yaml(tmp_path, mine=RULES), {"inbound": scorer})


def test_rule_match_wins_with_full_confidence_without_asking_the_model(tmp_path: Path) -> None:
    scorer = FakeScorer("inbound", default=[("deny", 0.99)])
    result = _classifier(tmp_path, scorer).classify("Thanks!", "inbound")
    assert result == Classification("gratitude", 1.0, "rule", rule_id="thanks")
    assert scorer.calls == []


def test_model_answer_at_or_above_its_threshold_is_used(tmp_path: Path) -> None:
    scorer = FakeScorer(
        "inbound",
        default=[("deny", 0.7), ("other", 0.2), ("gratitude", 0.1)],
        thresholds={"deny": 0.7},
    )
    result = _classifier(tmp_path, scorer).classify("nah mate, that's grand", "inbound")
    assert result.intent == "deny"
    assert result.source == "model"
    assert result.confidence == 0.7
    assert result.model_version == "fake-1"
    assert result.rule_id is None
    assert result.alternatives == (Alternative("other", 0.2), Alternative("gratitude", 0.1))


def test_model_answer_below_its_threshold_falls_back_to_other(tmp_path: Path) -> None:
    scorer = FakeScorer(
        "inbound",
        default=[("deny", 0.6), ("other", 0.3), ("gratitude", 0.1)],
        thresholds={"deny": 0.8},
    )
    result = _classifier(tmp_path, scorer).classify("nah, that's grand", "inbound")
    assert result.intent == "other"
    assert result.source == "fallback"
    assert result.confidence == 0.3
    assert result.model_version == "fake-1"
    assert result.alternatives == (Alternative("deny", 0.6), Alternative("gratitude", 0.1))


def test_a_message_split_between_nothing_more_intents_takes_the_top_one(tmp_path: Path) -> None:
    thresholds = {"deny": 0.7, "gratitude": 0.8, "goodbye": 0.8}
    split = [("deny", 0.5), ("gratitude", 0.4), ("other", 0.1)]
    unsure = [("deny", 0.5), ("gratitude", 0.25), ("other", 0.25)]
    request = [("other", 0.5), ("deny", 0.3), ("gratitude", 0.2)]
    scorer = FakeScorer(
        "inbound", answers={"a": split, "b": unsure, "c": request}, thresholds=thresholds
    )
    classifier = _classifier(tmp_path, scorer)
    result = classifier.classify("a", "inbound")
    assert (result.intent, result.confidence, result.source) == ("deny", 0.5, "model")
    assert result.alternatives == (Alternative("gratitude", 0.4), Alternative("other", 0.1))
    # together under the highest of their thresholds, or `other` on top: substantive
    assert classifier.classify("b", "inbound").intent == "other"
    assert classifier.classify("c", "inbound").intent == "other"


def test_thresholds_are_per_intent(tmp_path: Path) -> None:
    scorer = FakeScorer(
        "inbound",
        answers={"a": [("deny", 0.6), ("other", 0.4)], "b": [("away", 0.6), ("other", 0.4)]},
        thresholds={"deny": 0.9, "away": 0.5},
    )
    classifier = _classifier(tmp_path, scorer)
    assert classifier.classify("a", "inbound").source == "fallback"
    assert classifier.classify("b", "inbound").intent == "away"


def test_intent_without_a_threshold_needs_one_half(tmp_path: Path) -> None:
    scorer = FakeScorer("inbound", answers={"a": [("deny", 0.49)], "b": [("deny", 0.5)]})
    classifier = _classifier(tmp_path, scorer)
    assert classifier.classify("a", "inbound").intent == "other"
    assert classifier.classify("b", "inbound").intent == "deny"


def test_direction_without_a_model_falls_back_to_other(tmp_path: Path) -> None:
    result = _classifier(tmp_path, FakeScorer("inbound")).classify("Your card", "outbound")
    assert result == Classification("other", 0.0, "fallback")


def test_model_sees_the_normalized_text(tmp_path: Path) -> None:
    scorer = FakeScorer("inbound")
    _classifier(tmp_path, scorer).classify("  where’s   my\tparcel ", "inbound")
    assert scorer.calls == ["where's my parcel"]


def test_a_model_of_the_other_direction_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outbound"):
        Classifier(rules_from_yaml(tmp_path, mine=RULES), {"inbound": FakeScorer("outbound")})


def test_batch_gives_the_same_answers_in_order(tmp_path: Path) -> None:
    scorer = FakeScorer("inbound", answers={"where is it": [("other", 0.9)]})
    classifier = _classifier(tmp_path, scorer)
    texts = ["thanks", "where is it", "thanks!"]
    assert classifier.classify_batch(texts, "inbound") == [
        classifier.classify(t, "inbound") for t in texts
    ]


def test_load_rules_reports_errors_of_engine_and_intent_files_together(tmp_path: Path) -> None:
    rules_dir = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, rules_dir)
    workflow = rules_dir / "workflow.yaml"
    workflow.write_text(workflow.read_text(encoding="utf-8") + "bogus: 1\n", encoding="utf-8")
    (rules_dir / "intents" / "zz.yaml").write_text(
        "rules:\n  - {id: z, direction: inbound, intent: nope, scope: whole, phrases: [z]}\n",
        encoding="utf-8",
    )
    with pytest.raises(FilesInvalid) as caught:
        load_rules(rules_dir)
    assert sorted((Path(e.path).name, e.code) for e in caught.value.errors) == [
        ("workflow.yaml", "T003"),
        ("zz.yaml", "T005"),
    ]


def test_load_classifier_reads_shipped_rules_without_models(tmp_path: Path) -> None:
    classifier = load_classifier(str(SHIPPED_RULES), str(tmp_path / "no-models"))
    assert classifier.scorers == {}
    assert classifier.classify("no thanks", "inbound").rule_id == "inbound-deny"


class FakeLemmaScorer(FakeScorer):
    """A fake that also accepts the pipeline's lemma text (see `LemmaIntentScorer`)."""

    def predict_proba_lemmas(self, lemma_text: str) -> list[tuple[str, float]]:
        self.calls.append(f"lemmas:{lemma_text}")
        return self.default


def test_model_that_accepts_lemmas_gets_the_pipelines_lemma_text(tmp_path: Path) -> None:
    scorer = FakeLemmaScorer("inbound", default=[("other", 0.9)])
    _classifier(tmp_path, scorer).classify("My cards were blocked!", "inbound")
    assert scorer.calls == ["lemmas:my card be block !"]


def test_pipeline_lemma_text_equals_the_models_feature_text() -> None:
    from tidal.engine.classify.features import lemma_text
    from tidal.engine.classify.normalize import normalize
    from tidal.engine.classify.tokens import shared_tokenizer
    from tidal.training.dataset import load_directory

    tokenizer = shared_tokenizer()
    root = SHIPPED_RULES.parent
    texts = [
        e.text
        for folder in ("training/data", "training/eval")
        for e in load_directory(root / folder)
    ]
    texts += ["  don’t\u00a0STOP ", "👍🏻 ok", "ｆｕｌｌ width", "a\tb\nc"]
    mismatches = [t for t in texts if " ".join(tokenizer(normalize(t)).lemmas) != lemma_text(t)]
    assert mismatches == []


COMPOSITE_RULES = """
rules:
  - id: thanks
    direction: inbound
    intent: gratitude
    scope: whole
    allow: [acknowledgement]
    phrases: [thanks, you were helpful]
  - id: great
    direction: inbound
    intent: acknowledgement
    scope: whole
    phrases: [great]
  - id: thats-all
    direction: inbound
    intent: deny
    scope: whole
    allow: [gratitude]
    phrases: [that's all]
"""


def _composite(tmp_path: Path, scorer: FakeScorer) -> Classifier:
    return Classifier(rules_from_yaml(tmp_path, mine=COMPOSITE_RULES), {"inbound": scorer})


def test_a_request_after_thanks_makes_the_customer_message_substantive(tmp_path: Path) -> None:
    scorer = FakeScorer(
        "inbound",
        answers={
            "Great, thanks. Now list my reminders": [("gratitude", 0.97), ("other", 0.03)],
            "Now list my reminders": [("other", 0.9), ("gratitude", 0.1)],
        },
    )
    result = _composite(tmp_path, scorer).classify(
        "Great, thanks. Now list my reminders", "inbound"
    )
    assert result.intent == "other"
    assert result.source == "model"
    assert Alternative("gratitude", 0.97) in result.alternatives


def test_a_sentence_the_model_only_escalates_counts_as_a_request(tmp_path: Path) -> None:
    scorer = FakeScorer(
        "inbound",
        answers={
            "Thanks! Book it now": [("gratitude", 0.9), ("other", 0.1)],
            "Book it now": [("urgent", 0.7), ("other", 0.3)],
        },
    )
    assert _composite(tmp_path, scorer).classify("Thanks! Book it now", "inbound").intent == "other"


def test_ineffectual_sentences_combine_into_the_one_that_matters_most(tmp_path: Path) -> None:
    scorer = FakeScorer("inbound", default=[("other", 0.9)])
    result = _composite(tmp_path, scorer).classify(
        "That's all, thanks. You were helpful.", "inbound"
    )
    assert result.intent == "deny"
    assert result.source == "rule"


def test_a_sentence_the_model_leans_to_call_ineffectual_does_not_activate(tmp_path: Path) -> None:
    scorer = FakeScorer(
        "inbound",
        answers={"That would be all.": [("deny", 0.8), ("other", 0.2)]},
        default=[("other", 0.9)],
        thresholds={"deny": 0.9},
    )
    result = _composite(tmp_path, scorer).classify("Thanks. That would be all.", "inbound")
    assert result.intent == "deny"
    assert result.source == "model"


def test_agent_messages_are_not_split_into_sentences(tmp_path: Path) -> None:
    scorer = FakeScorer("outbound", default=[("other", 0.9)])
    classifier = Classifier(rules_from_yaml(tmp_path, mine=COMPOSITE_RULES), {"outbound": scorer})
    classifier.classify("Booked. Thanks.", "outbound")
    assert scorer.calls == ["Booked. Thanks."]


@pytest.mark.parametrize(("probability", "expected"), [(0.55, "other"), (0.65, "urgent")])
def test_the_model_escalates_only_above_the_escalation_floor(
    tmp_path: Path, probability: float, expected: str
) -> None:
    scorer = FakeScorer(
        "inbound",
        default=[("urgent", probability), ("other", 1 - probability)],
        thresholds={"urgent": 0.3},
    )
    result = _classifier(tmp_path, scorer).classify("I need a ticket to Denver please", "inbound")
    assert result.intent == expected


def test_an_answer_of_the_encoder_stage_has_source_encoder(tmp_path: Path) -> None:
    scorer = FakeCascadeScorer(
        "inbound",
        answers={"No, thank you": [("deny", 0.9), ("other", 0.1)]},
        default=[("other", 0.95), ("deny", 0.05)],
        encoded={"No, thank you"},
    )
    classifier = Classifier(rules_from_yaml(tmp_path, mine=RULES), {"inbound": scorer})
    encoded = classifier.classify("No,   thank you", "inbound")
    fast = classifier.classify("where is my parcel", "inbound")
    assert (encoded.intent, encoded.source) == ("deny", "encoder")
    assert (fast.intent, fast.source) == ("other", "model")
    # The encoder gets the normalised text, the fast model the lemmas.
    assert scorer.cascade_calls[0] == ("no , thank you", "No, thank you")


def test_an_encoder_answer_below_its_threshold_falls_back(tmp_path: Path) -> None:
    scorer = FakeCascadeScorer(
        "inbound",
        default=[("urgent", 0.6), ("other", 0.4)],
        thresholds={"urgent": 0.8},
        encoded={"a used one"},
    )
    classifier = Classifier(rules_from_yaml(tmp_path, mine=RULES), {"inbound": scorer})
    result = classifier.classify("a used one", "inbound")
    assert (result.intent, result.source) == ("other", "fallback")


def test_an_agent_message_the_model_is_unsure_of_is_judged_by_its_last_sentence(
    tmp_path: Path,
) -> None:
    unsure = [("other", 0.4), ("offer_more_help", 0.6)]
    scorer = FakeScorer(
        "outbound",
        answers={
            "Booked, ref 8X2K. Need anything more?": unsure,
            "Need anything more?": [("offer_more_help", 0.95), ("other", 0.05)],
            "It leaves at 9. Does that work?": unsure,
            "Does that work?": [("other", 0.7), ("offer_more_help", 0.3)],
            "Need anything more? Okay.": [("offer_more_help", 0.9), ("other", 0.1)],
        },
        thresholds={"offer_more_help": 0.85},
    )
    classifier = Classifier(rules_from_yaml(tmp_path, mine=RULES), {"outbound": scorer})
    offer = classifier.classify("Booked, ref 8X2K. Need anything more?", "outbound")
    assert (offer.intent, offer.source, offer.confidence) == ("offer_more_help", "model", 0.95)
    assert classifier.classify("It leaves at 9. Does that work?", "outbound").intent == "other"
    # a sure answer on the whole message is never second-guessed
    scorer.calls.clear()
    assert classifier.classify("Need anything more? Okay.", "outbound").intent == (
        "offer_more_help"
    )
    assert scorer.calls == ["Need anything more? Okay."]


def test_the_models_closing_for_an_agent_question_falls_back(tmp_path: Path) -> None:
    closing = [("closing", 0.7), ("other", 0.3)]
    scorer = FakeScorer(
        "outbound",
        answers={"Ok great. For when?": closing, "Ok great. Bye now.": closing},
        thresholds={"closing": 0.55},
    )
    classifier = Classifier(rules_from_yaml(tmp_path, mine=RULES), {"outbound": scorer})
    asked = classifier.classify("Ok great. For when?", "outbound")
    assert (asked.intent, asked.source, asked.confidence) == ("other", "fallback", 0.3)
    assert asked.alternatives == (Alternative("closing", 0.7),)
    assert classifier.classify("Ok great. Bye now.", "outbound").intent == "closing"
