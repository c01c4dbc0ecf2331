"""uvicorn's server, telling the service the moment a stop signal arrives.

uvicorn first stops listening and waits up to its graceful timeout for requests in
flight, and only then runs the app's lifespan shutdown. During that wait nothing new
may start that would outlive the stop (a replacement classifier process, say), so the
service learns of the signal at once (`TidalApp.begin_stopping`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from types import FrameType

import uvicorn
from uvicorn.config import Config

#: uvicorn's exit code when the server could not start
STARTUP_FAILURE = 3


class StoppingServer(uvicorn.Server):
    def __init__(self, config: Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_stop()
        super().handle_exit(sig, frame)


def serve(config: Config, on_stop: Callable[[], None]) -> None:
    """Run the server until a stop signal (as `uvicorn.run` does, in one process)."""
    server = StoppingServer(config, on_stop)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
