"""The one settings object of the HTTP service (docs/http-api.md, docs/cli.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from tidal.service.persistence.handled_messages import RECENT_OUTCOMES

ClockMode = Literal["wall", "manual"]

#: docs/http-api.md: a message text may be at most 64 KiB (UTF-8 bytes).
MAX_TEXT_BYTES = 64 * 1024
#: Any request body above this is refused before it is parsed.
MAX_BODY_BYTES = 1024 * 1024


def sqlite_url(path: Path | str) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{Path(path)}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `create_app` needs; built by `tidal serve` or by tests.

    Nothing is opened or loaded when a `Settings` is made: the app factory does that
    on startup, so importing the service never touches files, databases or models.
    """

    db_url: str = sqlite_url("tidal.db")
    rules_dir: Path = Path("rules")
    models_dir: Path = Path("models")
    clock: ClockMode = "wall"
    #: where a manual clock starts on a fresh database (later starts resume the stored time)
    clock_start: datetime | None = None
    #: seconds between SSE heartbeats (comment lines) on idle streams
    heartbeat_seconds: float = 15.0
    #: the most engine calls committed in one transaction
    max_commit_batch: int = 1024
    #: durable message outcomes kept in memory for quick duplicate answers (older
    #: duplicates are recognised through the filter and database of
    #: `tidal.service.persistence.handled_messages`)
    recent_outcomes: int = RECENT_OUTCOMES
    max_text_bytes: int = MAX_TEXT_BYTES
    max_body_bytes: int = MAX_BODY_BYTES
    #: the base URL where the other replicas on this database reach this service when it
    #: is the writer (`tidal.service.replication.forwarding`); None: they cannot, and
    #: answer 503 meanwhile
    advertise_url: str | None = None
    #: serve the desk's static files at `/` and `/desk/`
    serve_desk: bool = True
    #: how many recent decisions and events GET /v1/conversations/{id} shows
    recent_limit: int = 20
    #: classify in a helper process beside the service's own (`tidal.service.classifier.process`):
    #: another CPU core does about a third of each message's work. `tidal serve` turns it
    #: on when the machine has two cores or more; off here, so tests opt in
    classifier_process: bool = False
    #: seconds before a failed classifier process is replaced; doubled after each failure
    #: in a row, up to `CLASSIFIER_RESTART_MAX_SECONDS`
    classifier_restart_seconds: float = 2.0
