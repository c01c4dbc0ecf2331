"""The shipped sentence encoder: same embeddings as the PyTorch original, verified files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tidal.engine.classify.encoder import (
    SHIPPED_DIRECTORY,
    EncoderRefused,
    SentenceEncoder,
    encoder_directory,
    shared_encoder,
)

#: int8 weights and activations against the float32 original: the test sentences
#: measured 0.97-0.99 cosine similarity when the file was made.
MIN_COSINE = 0.96


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "encoder"
    shutil.copytree(SHIPPED_DIRECTORY, target)
    return target


def test_onnx_embeddings_match_the_float32_pytorch_reference() -> None:
    reference = json.loads((SHIPPED_DIRECTORY / "reference.json").read_text())
    got = shared_encoder().embed(reference["sentences"])
    expected = np.asarray(reference["embeddings"], dtype=np.float32)
    cosine = (got * expected).sum(axis=1)
    assert got.shape == (len(reference["sentences"]), 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert (cosine >= MIN_COSINE).all(), cosine


def test_paraphrases_are_closer_than_unrelated_messages() -> None:
    offer, paraphrase, unrelated = shared_encoder().embed(
        [
            "Can I help with anything further?",
            "Is there anything else I can help you with?",
            "Your table is booked for 7 pm.",
        ]
    )
    assert float(offer @ paraphrase) > float(offer @ unrelated) + 0.2


def test_a_text_gets_the_same_embedding_alone_or_among_many() -> None:
    texts = ["no thanks", "I need a ticket to Denver please", "a used one", "thanks a bunch!"]
    many = SentenceEncoder.load(SHIPPED_DIRECTORY).embed(texts, workers=2)
    fresh = SentenceEncoder.load(SHIPPED_DIRECTORY)
    alone = np.stack([fresh.embed_one(text) for text in texts])
    assert np.array_equal(many, alone)


def test_repeated_texts_are_computed_once() -> None:
    encoder = SentenceEncoder.load(SHIPPED_DIRECTORY)
    encoder.embed(["hello", "hello", "bye"])
    encoder.embed(["bye"])
    encoder.embed_one("hello")
    assert encoder.computed == 2


def test_a_modified_model_file_is_refused(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    with (directory / "encoder.onnx").open("r+b") as stream:
        stream.seek(1000)
        byte = stream.read(1)
        stream.seek(1000)
        stream.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EncoderRefused, match="sha256 does not match"):
        SentenceEncoder.load(directory)


def test_a_replaced_tokenizer_is_refused(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    tokenizer = json.loads((directory / "tokenizer.json").read_text())
    tokenizer["truncation"] = None
    (directory / "tokenizer.json").write_text(json.dumps(tokenizer))
    with pytest.raises(EncoderRefused, match=r"tokenizer\.json: sha256"):
        SentenceEncoder.load(directory)


def test_another_format_version_is_refused(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    metadata = json.loads((directory / "metadata.json").read_text())
    metadata["format_version"] = 99
    (directory / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(EncoderRefused, match="format_version is 99"):
        SentenceEncoder.load(directory)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    (directory / "encoder.onnx").unlink()
    with pytest.raises(EncoderRefused, match="encoder file is missing"):
        SentenceEncoder.load(directory)


def test_a_directory_without_metadata_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EncoderRefused, match="metadata is missing"):
        SentenceEncoder.load(tmp_path)


def test_a_model_finds_the_encoder_beside_it_else_the_shipped_one(tmp_path: Path) -> None:
    model = tmp_path / "inbound"
    model.mkdir()
    assert encoder_directory(model) == SHIPPED_DIRECTORY
    beside = _copy(tmp_path)
    assert encoder_directory(model) == beside.resolve()


def test_the_shipped_file_stays_within_30_mb() -> None:
    assert (SHIPPED_DIRECTORY / "encoder.onnx").stat().st_size <= 30_000_000
