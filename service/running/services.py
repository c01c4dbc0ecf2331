"""What a running service is made of: one `Services` per app, handed to every route.

`tidal.service.running.bootstrap` builds it once the service holds the database's writer
lock; the routes, the message use case (`tidal.service.handling`) and the background
tasks reach the engine, the store and the live-event hub through it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tidal.engine.core.clock import Clock, ManualClock
from tidal.service.auth import Authenticator
from tidal.service.classifier.process import ClassifierProcess
from tidal.service.config import Settings
from tidal.service.metrics import Metrics
from tidal.service.persistence.handled_messages import HandledMessages
from tidal.service.persistence.store import DurableStore
from tidal.service.running.live_events import EventHub
from tidal.service.running.rules import ActiveRules
from tidal.service.running.runtime import Runtime


@dataclass
class Services:
    """The parts of one running service (one per app)."""

    settings: Settings
    store: DurableStore
    runtime: Runtime
    hub: EventHub
    metrics: Metrics
    auth: Authenticator
    clock: Clock
    manual_clock: ManualClock | None
    rules: ActiveRules
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: the engine's store: which message ids were handled (engine thread only)
    handled_messages: HandledMessages | None = None
    #: classifies for one generation of `rules` in another process (None: the engine
    #: thread classifies every message)
    classifier_process: ClassifierProcess | None = None
    #: set once the service began to stop (a signal, or the lifespan ending): nothing
    #: new is started from then on, such as a replacement classifier process
    stopping: bool = False
