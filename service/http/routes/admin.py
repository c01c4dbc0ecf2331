"""Administration: reloading rules, moving the manual clock."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Path
from starlette.responses import Response

from tidal.engine.classify.model import ModelRefused
from tidal.engine.core.engine import Engine
from tidal.engine.rulesio.errors import FilesInvalid
from tidal.service.auth import Caller, require_role
from tidal.service.http.problems import Problem, problem_responses
from tidal.service.http.routes.deps import ServicesDep, json_response
from tidal.service.http.routes.schemas import ClockIn, ClockOut, ReloadOut, TokenList, TokenOut
from tidal.service.persistence.tokens import list_tokens, revoke_token
from tidal.service.running.bootstrap import MANUAL_CLOCK_KEY, start_classifier_process
from tidal.service.running.rules import ActiveRules, load_active_rules
from tidal.service.tokens import Role

router = APIRouter(tags=["admin"])


@router.post(
    "/v1/admin/rules/reload",
    response_model=ReloadOut,
    summary="Validate the rule files and swap rules and classifier at once (admin)",
    responses=problem_responses(401, 403, 422),
)
async def reload_rules(caller: Caller, services: ServicesDep) -> Response:
    """An invalid set is refused with every `path:line` error; the old set keeps serving."""
    require_role(caller, Role.ADMIN)
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
    return json_response(
        {
            "generation": swapped.generation,
            "rules_dir": str(swapped.rules_dir),
            "models_dir": str(swapped.models_dir),
        }
    )


@router.post(
    "/v1/admin/clock",
    response_model=ClockOut,
    summary="Set the manual clock and fire the timers now due (admin, --clock manual)",
    responses=problem_responses(400, 401, 403, 409, 422),
)
async def set_clock(body: ClockIn, caller: Caller, services: ServicesDep) -> Response:
    require_role(caller, Role.ADMIN)
    clock = services.manual_clock
    if clock is None:
        raise Problem("clock-not-manual", "start the service with `--clock manual` to set time")
    target = body.now

    def move(engine: Engine) -> int:
        try:
            clock.set(target)
        except ValueError as exc:
            raise Problem("clock-backwards", str(exc)) from None
        return len(engine.tick())

    fired = await services.runtime.execute(
        move, meta=lambda _fired: {MANUAL_CLOCK_KEY: clock.now().isoformat()}
    )
    return json_response({"now": clock.now().isoformat(), "fired_events": fired})


TokenId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The token's id.")]


@router.get(
    "/v1/admin/tokens",
    response_model=TokenList,
    summary="Every API token: id, role, agent, label, created, revoked; no secrets (admin)",
    responses=problem_responses(401, 403),
)
async def get_tokens(caller: Caller, services: ServicesDep) -> Response:
    require_role(caller, Role.ADMIN)
    tokens = await anyio.to_thread.run_sync(list_tokens, services.store.engine)
    return json_response({"tokens": [t.as_json() for t in tokens]})


@router.delete(
    "/v1/admin/tokens/{token_id}",
    response_model=TokenOut,
    summary="Revoke a token: refused at once here, within 5 s by other services (admin)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_token(token_id: TokenId, caller: Caller, services: ServicesDep) -> Response:
    require_role(caller, Role.ADMIN)
    revoked = await anyio.to_thread.run_sync(revoke_token, services.store.engine, token_id)
    if revoked is None:
        raise Problem("not-found", f"no token {token_id}")
    services.auth.refuse(token_id)
    return json_response(revoked.as_json())
