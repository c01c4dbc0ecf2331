"""Resident memory of a running `tidal serve` with every model loaded, against rules only.

Starts the real service (uvicorn, durable SQLite in a temp dir, its classifier helper
process on) twice: with `--models` (default `models/`, every direction's model and, for
cascade models, the sentence encoder) and with an empty models directory (the rules
alone: the baseline). Each time it sends a few messages through `POST /v1/messages`,
including ones that reach a cascade model's encoder stage, so that every model has
classified (ONNX Runtime allocates its buffers on the first run), then reads, from /proc,
the resident set (VmRSS) of the service process and of its classifier helper, and the
proportional set size (Pss in smaps_rollup) of both.

What counts: RSS counts every page a process maps, so the two processes' RSS summed
counts twice the pages they share (the interpreter, numpy, scikit-learn, spaCy and
ONNX Runtime libraries, read from the same files). PSS divides each shared page among
the processes mapping it, so the PSS of the two summed is the memory the service costs
the machine; `total_pss_mb` is that figure, `total_rss_mb` the sum of RSS (an upper
bound), and `service_rss_mb` the service process alone.

Run: .venv/bin/python bench/memory.py [--models DIR]
Last line: {"bench": "memory", "service_rss_mb", "classifier_process_rss_mb",
            "total_rss_mb", "total_pss_mb", "baseline_total_rss_mb",
            "baseline_total_pss_mb", "ratio"}
"""

from __future__ import annotations

import sys
from pathlib import Path

# this folder holds a module named like the standard library's `http`: keep it off the path
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import NamedTuple  # noqa: E402

from bench.http import PYTHON, REPO, free_port  # noqa: E402

MESSAGES = (
    ("inbound", "Hi, I ordered a used car seat and it has not arrived"),
    ("outbound", "Your table is booked for 7 pm. Would you like more assistance?"),
    ("inbound", "Right, thanks a bunch!"),
    ("inbound", "someone used my card, this is urgent"),
    ("outbound", "Let me check that for you"),
    ("inbound", "No, thank you, that was helpful"),
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def pss_mb(pid: int) -> float:
    """Proportional set size: private pages, plus each shared page divided by its sharers."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss for process {pid}")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        listed = (task / "children").read_text().split()
        found.extend(int(child) for child in listed)
    return found


class Footprint(NamedTuple):
    """MB of one running service after classifying MESSAGES."""

    service_rss: float
    helper_rss: float
    total_pss: float  # service and helper together

    @property
    def total_rss(self) -> float:
        return self.service_rss + self.helper_rss


def measure(models: Path, work: Path) -> Footprint:
    """The service's and its classifier helper's memory after classifying MESSAGES."""
    import httpx

    from tidal.service.config import sqlite_url
    from tidal.service.persistence.store import DurableStore
    from tidal.service.tokens import Role

    db = work / f"tidal-{models.name}.db"
    store = DurableStore(sqlite_url(db))
    store.create_schema()
    token = store.create_token(Role.SERVICE)
    store.close()
    port = free_port()
    command = [
        PYTHON,
        "-c",
        "from service.cli import main; main()",
        "serve",
        "--db",
        str(db),
        "--port",
        str(port),
        "--models",
        str(models),
        "--classifier-process",
        "--log-level",
        "warning",
    ]
    log = work / "server.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(1200):
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        for number, (direction, text) in enumerate(MESSAGES * 3):
            body = {
                "conversation_id": f"c-{number // len(MESSAGES)}",
                "direction": direction,
                "text": text,
            }
            if direction == "outbound":
                body["agent_id"] = "a-1"
            httpx.post(f"{base}/v1/messages", json=body, headers=headers, timeout=60)
        time.sleep(1.0)
        helpers = children(process.pid)
        return Footprint(
            service_rss=rss_mb(process.pid),
            helper_rss=sum(rss_mb(pid) for pid in helpers),
            total_pss=sum(pss_mb(pid) for pid in [process.pid, *helpers]),
        )
    finally:
        process.terminate()
        process.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=REPO / "models")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tidal-memory-") as tmp:
        work = Path(tmp)
        empty = work / "no-models"
        empty.mkdir()
        baseline = measure(empty, work)
        loaded = measure(args.models.resolve(), work)
    for name, footprint in (("rules only", baseline), (f"models of {args.models}", loaded)):
        print(
            f"{name}: RSS service {footprint.service_rss:.1f} MB + classifier helper "
            f"{footprint.helper_rss:.1f} MB = {footprint.total_rss:.1f} MB; "
            f"PSS of both {footprint.total_pss:.1f} MB"
        )
    ratio = loaded.total_pss / baseline.total_pss
    print(f"PSS {ratio:.2f}x the rules-only service ({baseline.total_pss:.1f} MB)")
    print(
        json.dumps(
            {
                "bench": "memory",
                "service_rss_mb": round(loaded.service_rss, 1),
                "classifier_process_rss_mb": round(loaded.helper_rss, 1),
                "total_rss_mb": round(loaded.total_rss, 1),
                "total_pss_mb": round(loaded.total_pss, 1),
                "baseline_total_rss_mb": round(baseline.total_rss, 1),
                "baseline_total_pss_mb": round(baseline.total_pss, 1),
                "ratio": round(ratio, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
