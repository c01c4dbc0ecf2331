"""Administration: reloading rules, moving the manual clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from tidal.engine.core.engine import Engine
from tidal.service.auth import Caller, require_role
from tidal.service.http.problems import Problem, problem_responses
from tidal.service.http.routes.deps import ServicesDep, json_response
from tidal.service.http.routes.schemas import ClockIn, ClockOut, ReloadOut, TokenList, TokenOut
from tidal.service.running.clock import MANUAL_CLOCK_KEY
from tidal.service.running.rules_reload import reload_rules
from tidal.service.tokens import Role

router = APIRouter(tags=["admin"])


@router.post(
    "/v1/admin/rules/reload",
    response_model=ReloadOut,
    summary="Validate the rule files and swap rules and classifier at once (admin)",
    responses=problem_responses(401, 403, 422),
)
async def post_rules_reload(caller: Caller, services: ServicesDep) -> Response:
    """An invalid set is refused with every `path:line` error; the old set keeps serving."""
    require_role(caller, Role.ADMIN)
    swapped = await reload_rules(services)
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
    tokens = await services.auth.tokens()
    return json_response({"tokens": [t.as_json() for t in tokens]})


@router.delete(
    "/v1/admin/tokens/{token_id}",
    response_model=TokenOut,
    summary="Revoke a token: refused at once here, within 5 s by other services (admin)",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_token(token_id: TokenId, caller: Caller, services: ServicesDep) -> Response:
    require_role(caller, Role.ADMIN)
    revoked = await services.auth.revoke(token_id)
    if revoked is None:
        raise Problem("not-found", f"no token {token_id}")
    return json_response(revoked.as_json())
