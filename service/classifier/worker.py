"""The classifier helper process: `python -m tidal.service.classifier.worker RULES MODELS`.

Classifying a text the cache has not seen is about a third of a message's CPU time in
the service, and it is pure: the same rule and model files give the same answer in any
process. `tidal.service.classifier.process` starts this helper beside the service, so that
work runs outside the service's GIL; this module is the helper's side and the wire
format both sides share.

Frames on both pipes: a 4-byte big-endian length, then JSON. The helper first answers
`{"fingerprint": ...}` (the `ActiveRules.fingerprint` of the files it loaded, checked
again after loading) or `{"error": ...}`; then, for each request frame (a list of
`[text, direction]`), one list in the same order of `encode`d classifications, `null`
where classifying raised (the service then classifies that text itself and reports
the error).

The helper stops when its stdin closes: when the service closes it, and also when the
service dies, even by SIGKILL, since the kernel closes a dead process's pipes. It
ignores SIGINT, which a terminal sends to the whole process group: the service decides
when it stops.
"""

from __future__ import annotations

import os
import signal
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from tidal.engine.core.intents import Alternative, Classification, ClassificationSource, Direction

LENGTH = struct.Struct(">I")
_SOURCES: frozenset[ClassificationSource] = frozenset({"rule", "model", "encoder", "fallback"})


def encode(classification: Classification, seconds: float) -> list[Any]:
    """A classification (and the seconds it took) as the helper sends it."""
    c = classification
    return [
        c.intent,
        c.confidence,
        c.source,
        c.rule_id,
        c.model_version,
        [[a.intent, a.confidence] for a in c.alternatives],
        seconds,
    ]


def decode(answer: Any) -> tuple[Classification, float]:
    """The classification and seconds of an `encode`d answer; ValueError if malformed.

    Checked field by field: a helper that answers garbage must be noticed, not let
    wrong types reach the engine or the database.
    """
    if not isinstance(answer, list) or len(answer) != 7:
        raise ValueError(f"malformed classification: {answer!r:.200}")
    intent, confidence, source, rule_id, model_version, alternatives, seconds = answer
    if (
        not isinstance(intent, str)
        or not _is_number(confidence)
        or source not in _SOURCES
        or not (rule_id is None or isinstance(rule_id, str))
        or not (model_version is None or isinstance(model_version, str))
        or not isinstance(alternatives, list)
        or not _is_number(seconds)
    ):
        raise ValueError(f"malformed classification: {answer!r:.200}")
    decoded: list[Alternative] = []
    for alternative in alternatives:
        if (
            not isinstance(alternative, list)
            or len(alternative) != 2
            or not isinstance(alternative[0], str)
            or not _is_number(alternative[1])
        ):
            raise ValueError(f"malformed alternative: {alternative!r:.200}")
        decoded.append(Alternative(alternative[0], float(alternative[1])))
    classification = Classification(
        intent, float(confidence), source, rule_id, model_version, tuple(decoded)
    )
    return classification, float(seconds)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def frame(value: Any) -> bytes:
    payload = orjson.dumps(value)
    return LENGTH.pack(len(payload)) + payload


# -- the helper process ---------------------------------------------------------------


def _answer(
    classify: Callable[[str, Direction], Classification], text: str, direction: Direction
) -> list[Any] | None:
    started = time.perf_counter()
    try:
        classification = classify(text, direction)
    except Exception:  # the service classifies it again and reports the error
        return None
    return encode(classification, time.perf_counter() - started)


def _read_request(source: BinaryIO) -> Any:
    head = source.read(LENGTH.size)
    if len(head) < LENGTH.size:
        return None  # the service closed the pipe (or died): stop
    (length,) = LENGTH.unpack(head)
    payload = source.read(length)
    if len(payload) < length:
        return None
    return orjson.loads(payload)


def serve(rules_dir: Path, models_dir: Path, source: BinaryIO, out: BinaryIO) -> None:
    """Load the files, prove which, then classify every request until `source` ends."""
    from tidal.service.running.rules import CachedClassifier, load_active_rules

    try:
        rules = load_active_rules(rules_dir, models_dir, generation=0)
    except Exception as exc:
        out.write(frame({"error": repr(exc)}))
        out.flush()
        return
    if rules.fingerprint is None:  # see load_active_rules
        out.write(frame({"error": "the files changed while they were loaded"}))
        out.flush()
        return
    out.write(frame({"fingerprint": rules.fingerprint}))
    out.flush()
    classifier = rules.classifier
    # the service looks up its own cache before asking: a second one here would only
    # hold the same texts again
    if isinstance(classifier, CachedClassifier):
        classifier = classifier.classifier
    classify = classifier.classify
    while (texts := _read_request(source)) is not None:
        out.write(frame([_answer(classify, text, direction) for text, direction in texts]))
        out.flush()


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # answers go to the original stdout only; whatever a library prints goes to stderr
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        serve(Path(argv[0]), Path(argv[1]), sys.stdin.buffer, out)
        out.close()
    except BrokenPipeError:
        # the service is gone: exit without flushing answers nobody will read
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
