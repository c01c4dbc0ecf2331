"""Database outages under load: a real PostgreSQL server is stopped and started again
while messages stream into a real `tidal serve`.

    .venv/bin/python bench/outage.py [--outages 5] [--down-seconds 3] [--clients 4]

The server is a private cluster made for the run (initdb in a temp dir, on a free port,
as the `postgres` user; the shared server on 5432 is never touched). Each outage stops
it with `pg_ctl stop -m immediate` (as a crash: every session ends, nothing is flushed
politely), keeps it down for `--down-seconds`, and starts it again. Checked and counted:

- while it is down, `/healthz` answers 503 and messages answer 503 (never another error);
- after it is back, the service answers 200 again by itself, and how long that took;
- at the end, every message ever acknowledged is in the database, and every message
  refused during an outage, sent again, is accepted once.

Last line: {"bench": "outage", "outages", "acknowledged", "refused_503", "other_errors",
            "lost", "recovery_s_max", "recovery_s_median"}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from tests.service.conftest import serve_process  # noqa: E402
from tidal.service.persistence import schema  # noqa: E402
from tidal.service.persistence.store import DurableStore  # noqa: E402
from tidal.service.tokens import Role  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateCluster:
    """A PostgreSQL cluster of its own, run as the `postgres` user."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True)

    def create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.directory / "server.log"), "-w", "start",
        )  # fmt: skip

    def crash(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        cluster = PrivateCluster(Path(tmp) / "pg")
        cluster.create()
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
                cluster.crash()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outages", type=int, default=5)
    parser.add_argument("--down-seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    with private_cluster() as cluster, tempfile.TemporaryDirectory() as tmp:
        store = DurableStore(cluster.url)
        store.create_schema()
        headers = {"Authorization": f"Bearer {store.create_token(Role.SERVICE)}"}
        store.close()
        answers: dict[str, int] = {}
        lock = threading.Lock()
        stop = threading.Event()
        recoveries: list[float] = []
        health_during: Counter[int] = Counter()
        with serve_process(cluster.url, Path(tmp) / "serve.log") as (_process, url):

            def client(index: int) -> None:
                with httpx.Client(base_url=url, timeout=30) as http:
                    n = 0
                    while not stop.is_set():
                        n += 1
                        message_id = f"m-{index}-{n}"
                        body = {
                            "message_id": message_id,
                            "conversation_id": f"c-{index}-{n % 10}",
                            "direction": "inbound",
                            "text": "where is my parcel?",
                        }
                        try:
                            status = http.post("/v1/messages", json=body, headers=headers)
                            code = status.status_code
                        except httpx.TransportError:
                            code = 0
                        with lock:
                            answers[message_id] = code
                        if code != 200:
                            time.sleep(0.05)

            threads = [
                threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            http = httpx.Client(base_url=url, timeout=30)
            for outage in range(args.outages):
                time.sleep(2.0)  # load with the database up
                cluster.crash()
                down_until = time.monotonic() + args.down_seconds
                while time.monotonic() < down_until:
                    health_during[http.get("/healthz").status_code] += 1
                    time.sleep(0.1)
                cluster.start()
                back = time.monotonic()
                while http.get("/healthz").status_code != 200:
                    time.sleep(0.05)
                recoveries.append(time.monotonic() - back)
                print(
                    f"outage {outage + 1}: down {args.down_seconds:.1f} s, healthy again "
                    f"{recoveries[-1]:.2f} s after the restart",
                    flush=True,
                )
            time.sleep(2.0)
            stop.set()
            for thread in threads:
                thread.join(30)
            # what was refused can be sent again, and is accepted once
            refused = sorted(m for m, code in answers.items() if code != 200)
            resent: Counter[int] = Counter()
            for message_id in refused:
                _m, index, n = message_id.split("-")
                body = {
                    "message_id": message_id,
                    "conversation_id": f"c-{index}-{int(n) % 10}",
                    "direction": "inbound",
                    "text": "where is my parcel?",
                }
                resent[http.post("/v1/messages", json=body, headers=headers).status_code] += 1
            http.close()
        engine = sa.create_engine(cluster.url)
        with engine.connect() as conn:
            stored = set(conn.execute(sa.select(schema.messages.c.message_id)).scalars())
        engine.dispose()

    statuses = Counter(answers.values())
    acknowledged = {m for m, code in answers.items() if code == 200}
    lost = acknowledged - stored
    not_stored_after_resend = set(refused) - stored
    print(
        f"{len(answers)} messages sent during {args.outages} outages: "
        f"{statuses[200]} acknowledged, {statuses[503]} answered 503, "
        f"{sum(n for code, n in statuses.items() if code not in (200, 503))} other answers "
        f"{dict(statuses)}; /healthz while down: {dict(health_during)}"
    )
    print(
        f"lost: {len(lost)}; refused ones sent again: {dict(resent)}, "
        f"{len(not_stored_after_resend)} not stored after"
    )
    print(
        json.dumps(
            {
                "bench": "outage",
                "outages": args.outages,
                "acknowledged": statuses[200],
                "refused_503": statuses[503],
                "other_errors": sum(n for code, n in statuses.items() if code not in (200, 503)),
                "lost": len(lost) + len(not_stored_after_resend),
                "healthz_503_while_down": health_during[503],
                "healthz_other_while_down": sum(
                    n for code, n in health_during.items() if code != 503
                ),
                "recovery_s_max": round(max(recoveries), 2),
                "recovery_s_median": round(statistics.median(recoveries), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
