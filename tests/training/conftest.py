"""Fixtures with small data sets written on the fly, so training tests stay fast."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.training.tiny_data import EVAL, GREETINGS, OTHER, THANKS, write_examples


@pytest.fixture
def tiny_texts() -> tuple[list[str], list[str]]:
    texts = GREETINGS + THANKS + OTHER
    labels = ["greeting"] * len(GREETINGS) + ["gratitude"] * len(THANKS) + ["other"] * len(OTHER)
    return texts, labels


@pytest.fixture
def data_tree(tmp_path: Path) -> Path:
    """tmp/data/inbound/*.yaml and tmp/eval/inbound/*.yaml; returns tmp."""
    write_examples(
        tmp_path / "data" / "inbound" / "small.yaml",
        "inbound",
        {"greeting": GREETINGS, "gratitude": THANKS, "other": OTHER},
    )
    write_examples(tmp_path / "eval" / "inbound" / "small.yaml", "inbound", EVAL)
    return tmp_path
