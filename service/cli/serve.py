"""`tidal serve`: the HTTP service and desk."""

from __future__ import annotations

import gc
import os
import shlex
import shutil
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tidal.training.cli_folders import folder


class ClockChoice(StrEnum):
    wall = "wall"
    manual = "manual"


#: allocations between young-generation collections (CPython's default is 700)
GC_YOUNG_THRESHOLD = 50_000
#: seconds a stop waits for requests in flight before cancelling them; the whole stop
#: takes at most about this plus `tidal.service.running.lifecycle`'s bounds (a few seconds)
GRACEFUL_SECONDS = 5


def tune_garbage_collector() -> None:
    """Collect the young generation less often.

    Every request allocates thousands of short-lived objects, and the engine keeps a
    growing heap of long-lived ones (conversations, outcomes); with the default
    thresholds the collector runs every few requests and its older-generation passes
    show up as latency spikes. Reference counting frees almost everything anyway.
    """
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 100)


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parse_moment(text: str) -> datetime:
    """An ISO 8601 moment; naive ones are taken as UTC. Bad input is a usage error."""
    from tidal.service.http.routes.fields import timestamp_problem

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 time", param_hint="--clock-start"
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    problem = timestamp_problem(moment)
    if problem is not None:
        raise typer.BadParameter(f"{text!r} {problem}", param_hint="--clock-start")
    return moment.astimezone(UTC)


def database_url(db: str) -> str:
    """A SQLAlchemy URL; a plain path means an SQLite file."""
    if "://" in db:
        return db
    from tidal.service.config import sqlite_url

    return sqlite_url(Path(db).expanduser().resolve())


def default_address(host: str, port: int) -> str:
    """The base URL of a service listening on `host`:`port`, as this machine reaches it."""
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown_host}:{port}"


def tidal_command(argv0: str | None = None) -> str:
    """This `tidal`, as a command that works when pasted into another terminal.

    Usually only `.venv/bin/tidal` exists, not a `tidal` on the PATH: the running
    executable's absolute path works from any directory; plain `tidal` only when the
    PATH finds this same executable.
    """
    invoked = Path(argv0 if argv0 is not None else sys.argv[0])
    if not invoked.name.startswith("tidal"):
        # started some other way (python -c, a test runner): the script installed beside
        # this interpreter, as in a virtual environment
        invoked = Path(sys.executable).parent / "tidal"
        if not invoked.is_file():
            return "tidal"
    on_path = shutil.which("tidal")
    if on_path is not None and Path(on_path).resolve() == invoked.resolve():
        return "tidal"
    return shlex.quote(str(invoked.absolute()))


def first_start_banner(
    token: str, host: str, port: int, db_url: str, command: str | None = None
) -> str:
    """What the first start on an empty database prints (like Jupyter prints its URL)."""
    base = default_address(host, port)
    tidal = command or tidal_command()
    return "\n".join(
        [
            "",
            "Tidal created an admin token for this new database; it is shown only once:",
            "",
            f"    {token}",
            "",
            "Try it:",
            f'    curl -H "Authorization: Bearer {token}" {base}/v1/agents',
            f"Open the desk at {base}/ and sign in with it (the supervisor view).",
            "More tokens (agent, supervisor, service):",
            f"    {tidal} token create --role supervisor --db {shlex.quote(db_url)}",
            "",
        ]
    )


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=0, max=65535)] = 8000,
    db: Annotated[
        str, typer.Option(help="Database URL (postgresql+psycopg://...) or SQLite file path.")
    ] = "tidal.db",
    clock: Annotated[
        ClockChoice, typer.Option(help="`manual`: time moves only by POST /v1/admin/clock.")
    ] = ClockChoice.wall,
    clock_start: Annotated[
        str | None,
        typer.Option(
            help="Start of a manual clock (ISO 8601, UTC when no offset is given); a later "
            "start than the stored time moves the clock forward.",
        ),
    ] = None,
    rules: Annotated[
        Path,
        typer.Option(
            help="Rules directory (default: rules/ under $TIDAL_HOME or here).",
            callback=folder("rules", "pass --rules DIR"),
        ),
    ] = Path("rules"),
    models: Annotated[
        Path,
        typer.Option(
            help="Models directory (default: models/ under $TIDAL_HOME or here).",
            callback=folder("models", "pass --models DIR", required=False),
        ),
    ] = Path("models"),
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
    access_log: Annotated[bool, typer.Option(help="Log every request (JSON).")] = True,
    advertise_url: Annotated[
        str | None,
        typer.Option(
            help="Where other replicas on the same database reach this service when it "
            "writes the database (default: http://HOST:PORT, 127.0.0.1 for 0.0.0.0).",
            show_default=False,
        ),
    ] = None,
    classifier_process: Annotated[
        bool | None,
        typer.Option(
            "--classifier-process/--no-classifier-process",
            help="Classify messages in a helper process, on another CPU core (falls back "
            "to in-process if it fails). Default: on when two or more cores are available.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the Tidal service and desk (SQLite by default; --db for PostgreSQL)."""
    import uvicorn

    from tidal.engine.classify.model import ModelRefused
    from tidal.engine.rulesio.errors import FilesInvalid
    from tidal.service.config import Settings
    from tidal.service.http.app import create_app
    from tidal.service.http.stopping_server import serve as serve_until_stopped
    from tidal.service.logging import configure_logging
    from tidal.service.persistence.store import DurableStore
    from tidal.service.running.rules import load_active_rules
    from tidal.service.tokens import Role

    start = parse_moment(clock_start) if clock_start is not None else None
    configure_logging(log_level)
    tune_garbage_collector()
    url = database_url(db)
    try:
        active = load_active_rules(rules, models, generation=1)
    except FilesInvalid as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    except ModelRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    store = DurableStore(url)
    try:
        store.create_schema()
        if not store.has_token(Role.ADMIN):
            token = store.create_token(Role.ADMIN, label="first start")
            sys.stdout.write(first_start_banner(token, host, port, url) + "\n")
            sys.stdout.flush()
    finally:
        store.close()
    settings = Settings(
        db_url=url,
        rules_dir=rules,
        models_dir=models,
        clock=clock.value,
        clock_start=start,
        classifier_process=(
            classifier_process if classifier_process is not None else usable_cores() >= 2
        ),
        advertise_url=advertise_url or default_address(host, port),
    )
    app = create_app(settings, rules=active, access_log=access_log)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    serve_until_stopped(config, on_stop=app.begin_stopping)
