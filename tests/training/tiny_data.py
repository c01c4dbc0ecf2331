"""Tiny labelled data for fast training tests."""

from __future__ import annotations

from pathlib import Path

GREETINGS = [
    "hi",
    "hello",
    "hey there",
    "good morning",
    "hi there!",
    "hello :)",
    "hey",
    "good evening",
    "morning!",
    "hiya",
]
THANKS = [
    "thanks",
    "thank you",
    "thanks a lot",
    "many thanks",
    "thank you so much",
    "cheers, thanks",
    "much appreciated",
    "thanks!!",
    "ty",
    "thank you kindly",
]
OTHER = [
    "my card is blocked",
    "where is my refund",
    "how do I change my address",
    "the app crashes when I log in",
    "I was charged twice for my order",
    "can I pay by bank transfer",
    "my parcel never arrived",
    "what are your opening hours",
    "I need to update my phone number",
    "why is my bill so high this month",
]
EVAL = {
    "greeting": ["hello hello", "hey hi", "good afternoon"],
    "gratitude": ["thanks so much", "thank you very much", "many many thanks"],
    "other": ["my payment failed", "where is my parcel", "how do I reset my password"],
}


def write_examples(path: Path, direction: str, intents: dict[str, list[str]]) -> Path:
    """An example file in the format of training/data/README.md."""
    lines = [
        "version: 1",
        f"direction: {direction}",
        'source: "Written for Tidal tests"',
        'licence: "Apache-2.0"',
        "intents:",
    ]
    for intent, texts in intents.items():
        lines.append(f"  {intent}:")
        lines.extend(f'    - "{text}"' for text in texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
