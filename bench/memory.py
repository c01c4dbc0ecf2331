"""Resident memory of a running `tidal serve` with every model loaded, against rules only.

Starts the real service (uvicorn, durable SQLite in a temp dir, its classifier helper
process on) twice: with `--models` (default `models/`, every direction's model and, for
cascade models, the sentence encoder) and with an empty models directory (the rules
alone: the baseline). Each time it sends a few messages through `POST /v1/messages`,
including ones that reach a cascade model's encoder stage, so that every model has
classified (ONNX Runtime allocates its buffers on the first run), then reads VmRSS of
the service process and of its classifier helper from /proc.

Run: .venv/bin/python bench/memory.py [--models DIR]
Last line: {"bench": "memory", "service_rss_mb", "classifier_process_rss_mb",
            "total_rss_mb", "baseline_total_rss_mb", "ratio"}
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


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        listed = (task / "children").read_text().split()
        found.extend(int(child) for child in listed)
    return found


def measure(models: Path, work: Path) -> tuple[float, float]:
    """(service MB, classifier helper MB) after classifying MESSAGES."""
    import httpx

    from service.config import sqlite_url
    from service.persistence.store import DurableStore
    from service.tokens import Role

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
        helper_mb = sum(rss_mb(pid) for pid in helpers)
        return rss_mb(process.pid), helper_mb
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
        base_service, base_helper = measure(empty, work)
        service, helper = measure(args.models.resolve(), work)
    total, baseline = service + helper, base_service + base_helper
    print(f"rules only: service {base_service:.1f} MB, classifier helper {base_helper:.1f} MB")
    print(f"models of {args.models}: service {service:6.1f} MB, classifier helper {helper:6.1f} MB")
    print(
        f"total {total:.1f} MB, {total / baseline:.2f}x the rules-only service ({baseline:.1f} MB)"
    )
    print(
        json.dumps(
            {
                "bench": "memory",
                "service_rss_mb": round(service, 1),
                "classifier_process_rss_mb": round(helper, 1),
                "total_rss_mb": round(total, 1),
                "baseline_total_rss_mb": round(baseline, 1),
                "ratio": round(total / baseline, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
