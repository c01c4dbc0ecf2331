"""Hostile texts: the slowest messages one can construct, classified, and the service's
health while a stream of them arrives.

    .venv/bin/python bench/hostile.py [--seconds 10] [--clients 4] [--no-service]

1. Classification time. For each size (1, 4, 16 and 64 KiB of UTF-8, the largest a
   message may be) every kind of hostile text below is built to that size and classified
   with the shipped rules and models (`Classifier.classify`, what the service runs);
   each figure is the median of `--repeat` runs. Kinds: space-free runs of punctuation,
   quotes, brackets, emoji, emoji joined by ZWJ, letters with stacked combining marks,
   right-to-left script with direction marks, long URLs, mixed scripts, digits with
   separators, hyphenated and apostrophe chains, characters that NFKC lengthens, and
   many one-character tokens separated by spaces; plus random mixtures of all of them
   (a small search for something slower still). The baseline is ordinary text (real
   customer messages from the evaluation split, repeated) of the same size.
2. `/healthz` during a stream. A real `tidal serve` (temp SQLite file, its classifier
   process as `tidal serve` decides) receives `--clients` concurrent streams of the
   hostile 64 KiB texts for `--seconds`, while `/healthz` is asked every 20 ms; its p99
   latency is reported, and the same with ordinary texts of the same size as the
   baseline, in this same run.

Last line: {"bench": "hostile", "worst_classify_ms_64k", "worst_kind_64k",
            "baseline_classify_ms_64k", "ratio_64k", "healthz_p99_ms",
            "baseline_healthz_p99_ms", "healthz_ratio", "posted", "failed_posts"}
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Run by path, Python puts bench/ itself first on the import path, where a module named
# like a standard one (bench/http.py) would shadow it: import from the project root.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import httpx  # noqa: E402
import orjson  # noqa: E402
import yaml  # noqa: E402

from tidal.engine.classify.loading import load_classifier  # noqa: E402

SIZES_KIB = (1, 4, 16, 64)
#: the repeating unit of each kind of hostile text
KINDS: dict[str, str] = {
    "punctuation !?": "!?",
    "punctuation mixed": "!?.,;:-_*&^%$#@~",
    "quotes": "'\"",
    "curly quotes": "\u201c\u2019\u201d\u2018",
    "brackets": "([{<",
    "closing brackets": ")]}>",
    "emoji": "\U0001f600",
    "emoji zwj": "\U0001f469\u200d\U0001f4bb",
    "emoji skin tone": "\U0001f44d\U0001f3fd",
    "flags": "\U0001f1fa\U0001f1f8",
    "combining marks": "a\u0301\u0302\u0303\u0304\u0305",
    "combining only": "\u0301",
    "rtl": "\u05e9\u05dc\u05d5\u05dd\u0645\u0631\u062d\u0628\u0627",
    "rtl marks": "\u202e\u05e9\u200f\u202c",
    "url": "https://example.com/a/b?c=d&e=f#",
    "email": "a.b+c@example.co.",
    "mixed scripts": "a\u0416\u4e2d\u3042\u0e01\u05d0!",
    "digits": "1,2.3/4-",
    "hyphens": "a-",
    "apostrophes": "n't'",
    "ellipsis": "\u2026",
    "nfkc expanding": "\ufdfa",
    "letters": "abcdefghij",
    "one-char tokens": "' ",
    "emoji tokens": "\U0001f600 ",
}


def sized(unit: str, size_bytes: int) -> str:
    """`unit` repeated to at most `size_bytes` of UTF-8 (and as close to it as fits)."""
    unit_bytes = len(unit.encode())
    text = unit * (size_bytes // unit_bytes)
    for ch in unit:  # top up with the unit's first characters
        if len((text + ch).encode()) > size_bytes:
            break
        text += ch
    return text


def mixtures(size_bytes: int, count: int, seed: int) -> Iterator[tuple[str, str]]:
    """Random mixtures of the kinds' units, in runs, to look for slower texts."""
    rng = random.Random(seed)
    units = list(KINDS.values())
    for n in range(count):
        parts: list[str] = []
        used = 0
        while used < size_bytes:
            run = rng.choice(units) * rng.randint(1, 64)
            parts.append(run)
            used += len(run.encode())
        yield f"mixture {n}", sized("".join(parts), size_bytes)


def ordinary_text(size_bytes: int) -> str:
    """Customer messages of the evaluation set (`training/eval/inbound`), one after
    another."""
    texts: list[str] = []
    for path in sorted((ROOT / "training" / "eval" / "inbound").glob("*.yaml")):
        for examples in yaml.safe_load(path.read_text())["intents"].values():
            texts.extend(str(t) for t in examples)
    return sized(" ".join(texts), size_bytes)


def time_ms(classify: Callable[[str], object], text: str, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        classify(text)
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def classification_times(repeat: int) -> tuple[dict[int, tuple[str, float]], dict[int, float]]:
    classifier = load_classifier(ROOT / "rules", ROOT / "models")

    def classify(text: str) -> object:
        return classifier.classify(text, "inbound")

    classify("warm up")
    worst: dict[int, tuple[str, float]] = {}
    baseline: dict[int, float] = {}
    print(f"{'kind':<20}" + "".join(f"{f'{k} KiB ms':>12}" for k in SIZES_KIB))
    rows: dict[str, list[float]] = {}
    for kib in SIZES_KIB:
        size = kib * 1024
        candidates = [(kind, sized(unit, size)) for kind, unit in KINDS.items()]
        candidates += list(mixtures(size, 8, seed=kib))
        for kind, text in candidates:
            ms = time_ms(classify, text, repeat)
            rows.setdefault(kind, []).append(ms)
            if ms > worst.get(kib, ("", -1.0))[1]:
                worst[kib] = (kind, ms)
        baseline[kib] = time_ms(classify, ordinary_text(size), repeat)
    for kind, times in rows.items():
        if not kind.startswith("mixture"):
            print(f"{kind:<20}" + "".join(f"{ms:>12.2f}" for ms in times))
    mixed = [times for kind, times in rows.items() if kind.startswith("mixture")]
    print(
        f"{'mixtures (worst)':<20}"
        + "".join(f"{max(col):>12.2f}" for col in zip(*mixed, strict=True))
    )
    print(f"{'ordinary (baseline)':<20}" + "".join(f"{baseline[k]:>12.2f}" for k in SIZES_KIB))
    for kib in SIZES_KIB:
        kind, ms = worst[kib]
        print(
            f"worst at {kib} KiB: {kind} {ms:.2f} ms "
            f"({ms / baseline[kib]:.1f}x ordinary text of that size)"
        )
    return worst, baseline


# -- the service under a stream of hostile texts --------------------------------------


@contextmanager
def running_service(tmp: Path) -> Iterator[tuple[str, str]]:
    """A `tidal serve` on a temp SQLite file; (base URL, a service token)."""
    from tidal.service.config import sqlite_url
    from tidal.service.persistence.store import DurableStore
    from tidal.service.tokens import Role

    db = tmp / "hostile.db"
    store = DurableStore(sqlite_url(db))
    store.create_schema()
    store.create_token(Role.ADMIN, label="bench")
    token = store.create_token(Role.SERVICE, label="bench")
    store.close()
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (tmp / "serve.log").open("wb")
    command = [
        sys.executable, "-c", "from service.cli import main; main()", "serve",
        "--db", str(db), "--port", str(port), "--rules", str(ROOT / "rules"),
        "--models", str(ROOT / "models"), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            if process.poll() is not None:
                raise RuntimeError((tmp / "serve.log").read_text()[-2000:])
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("tidal serve did not start")
        yield url, token
    finally:
        process.terminate()
        process.wait(60)
        log.close()


def stream(
    url: str, token: str, tag: str, texts: list[str], seconds: float, clients: int
) -> dict[str, float]:
    """Post `texts` round-robin from `clients` threads while polling /healthz."""
    stop = threading.Event()
    posted, failed = [0], [0]
    counter = iter(range(10**9))
    lock = threading.Lock()

    def poster(index: int) -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=url, timeout=60) as client:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                body = {
                    "message_id": f"{tag}-{n}",
                    "conversation_id": f"c-{tag}-{index}-{n}",
                    "direction": "inbound",
                    "text": texts[n % len(texts)],
                }
                answer = client.post("/v1/messages", content=orjson.dumps(body), headers=headers)
                with lock:
                    posted[0] += 1
                    failed[0] += answer.status_code != 200

    threads = [threading.Thread(target=poster, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.get("/healthz")
            latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join(120)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return {"p99": p99, "max": latencies[-1], "posted": posted[0], "failed": failed[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-service", action="store_true", help="classification only")
    args = parser.parse_args()

    worst, baseline = classification_times(args.repeat)
    kind64, ms64 = worst[64]
    figures: dict[str, object] = {
        "bench": "hostile",
        "worst_classify_ms_64k": round(ms64, 2),
        "worst_kind_64k": kind64,
        "baseline_classify_ms_64k": round(baseline[64], 2),
        "ratio_64k": round(ms64 / baseline[64], 2),
    }
    if not args.no_service:
        hostile = [sized(unit, 64 * 1024) for unit in KINDS.values()]
        with tempfile.TemporaryDirectory() as tmp, running_service(Path(tmp)) as (url, token):
            ordinary = [ordinary_text(64 * 1024)]
            calm = stream(url, token, "calm", ordinary, args.seconds, args.clients)
            storm = stream(url, token, "storm", hostile, args.seconds, args.clients)
        print(
            f"/healthz p99 while posting 64 KiB texts from {args.clients} clients for "
            f"{args.seconds:.0f} s: hostile {storm['p99']:.1f} ms (max {storm['max']:.1f}, "
            f"{storm['posted']} posted, {storm['failed']} failed); ordinary "
            f"{calm['p99']:.1f} ms (max {calm['max']:.1f}, {calm['posted']} posted)"
        )
        figures.update(
            healthz_p99_ms=round(storm["p99"], 2),
            baseline_healthz_p99_ms=round(calm["p99"], 2),
            healthz_ratio=round(storm["p99"] / calm["p99"], 2),
            posted=storm["posted"],
            failed_posts=storm["failed"],
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
