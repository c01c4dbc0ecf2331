"""Reloading the rules while serving (`POST /v1/admin/rules/reload`).

The fresh files are validated first: an invalid set is refused with every `path:line`
error and the old set keeps serving. A valid set is swapped on the engine thread, so a
message meets the old rules and classifier or the new ones, never a mix; then the old
generation's classifier process (`tidal.service.classifier`) is replaced by one for the
new files.
"""

from __future__ import annotations

import anyio

from tidal.engine.classify.model import ModelRefused
from tidal.engine.core.engine import Engine
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.service.classifier.upkeep import start_classifier_process
from tidal.service.http.problems import Problem
from tidal.service.running.rules import ActiveRules, load_active_rules
from tidal.service.running.services import Services


async def reload_rules(services: Services) -> ActiveRules:
    """Load, validate and swap in the rule files again; the rules now active.

    Raises a `rules-invalid` or `model-refused` `Problem` when the files are refused."""
    async with services.reload_lock:
        current = services.rules
        try:
            fresh = await anyio.to_thread.run_sync(
                load_active_rules, current.rules_dir, current.models_dir, current.generation + 1
            )
        except FilesInvalid as exc:
            raise Problem(
                "rules-invalid",
                f"{len(exc.errors)} error(s) in the rule files",
                errors=[str(e) for e in exc.errors],
            ) from None
        except ModelRefused as exc:
            raise Problem("model-refused", str(exc), errors=[str(exc)]) from None
        except (OSError, ValueError) as exc:
            raise Problem("rules-invalid", str(exc), errors=[str(exc)]) from None

        def swap(engine: Engine) -> ActiveRules:
            engine.replace_rules(fresh.engine_rules.routing, fresh.engine_rules.workflow)
            services.rules = fresh  # on the engine thread: messages see both or neither
            return fresh

        swapped = await services.runtime.execute(swap)
        # the old generation's classifier process is of no more use (messages no longer
        # ask it); a new one loads the fresh files while the engine thread classifies.
        # Answered once it is ready, so a caller that saw the reload sees the helper too
        stale, services.classifier_process = services.classifier_process, None
        if stale is not None:
            await stale.close()
        services.classifier_process = await start_classifier_process(
            services.settings, fresh, services.metrics
        )
    return swapped
