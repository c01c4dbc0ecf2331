"""Agents: settings and status, worklists, the manual pick-up, and who-am-I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from starlette.responses import Response

from tidal.engine.core.engine import Engine
from tidal.engine.core.model import Agent, Conversation
from tidal.service.auth import Caller, require_agent_or, require_role
from tidal.service.http.problems import Problem, problem_responses
from tidal.service.http.routes.deps import ServicesDep, json_response
from tidal.service.http.routes.fields import Identifier
from tidal.service.http.routes.schemas import AgentIn, AgentList, AgentOut, TakeOut, WorklistOut
from tidal.service.tokens import Role
from tidal.service.views import agent_view, conversation_summary

router = APIRouter(tags=["agents"])
AgentId = Annotated[Identifier, Path(description="Agent id.")]


class MeOut(BaseModel):
    role: Role = Field(description="The token's role.")
    agent_id: str | None = Field(description="For agent tokens, the agent it acts for.")


def _agent(engine: Engine, agent_id: str) -> Agent:
    agent = engine.agent(agent_id)
    if agent is None:
        raise Problem("not-found", f"no agent {agent_id!r}")
    return agent


def _summaries(
    engine: Engine, conversations: tuple[Conversation, ...] | list[Conversation]
) -> list[dict[str, Any]]:
    return [conversation_summary(c, engine.priority(c.id)) for c in conversations]


@router.get(
    "/v1/me",
    response_model=MeOut,
    summary="Who the token belongs to",
    responses=problem_responses(401),
)
async def me(caller: Caller) -> Response:
    return json_response({"role": str(caller.role), "agent_id": caller.agent_id})


@router.get(
    "/v1/agents",
    response_model=AgentList,
    summary="Every agent with its load, preferred and maximum (supervisor)",
    responses=problem_responses(401, 403),
)
async def list_agents(caller: Caller, services: ServicesDep) -> Response:
    require_role(caller, Role.SUPERVISOR, Role.ADMIN)
    agents = await services.runtime.execute(lambda engine: engine.agents())
    return json_response({"agents": [agent_view(a) for a in agents]})


@router.get(
    "/v1/agents/{agent_id}",
    response_model=AgentOut,
    summary="An agent's settings, status and load (supervisor, the agent)",
    responses=problem_responses(401, 403, 404),
)
async def get_agent(agent_id: AgentId, caller: Caller, services: ServicesDep) -> Response:
    require_agent_or(caller, agent_id, Role.SUPERVISOR, Role.ADMIN)
    agent = await services.runtime.execute(lambda engine: _agent(engine, agent_id))
    return json_response(agent_view(agent))


@router.put(
    "/v1/agents/{agent_id}",
    response_model=AgentOut,
    summary="Create or update an agent (supervisor, admin; the agent: status only)",
    responses=problem_responses(400, 401, 403, 413, 422),
)
async def put_agent(
    agent_id: AgentId, body: AgentIn, caller: Caller, services: ServicesDep
) -> Response:
    require_agent_or(caller, agent_id, Role.SUPERVISOR, Role.ADMIN)
    if caller.role is Role.AGENT and body.model_fields_set - {"status"}:
        raise Problem("forbidden", "an agent may only change its own status")
    skills = frozenset(body.skills) if body.skills is not None else None

    def upsert(engine: Engine) -> Agent:
        if caller.role is Role.AGENT:
            _agent(engine, agent_id)  # agents cannot create themselves
        return engine.upsert_agent(
            agent_id,
            status=body.status,
            preferred_concurrency=body.preferred_concurrency,
            max_concurrency=body.max_concurrency,
            skills=skills,
        )

    agent = await services.runtime.execute(upsert)
    return json_response(agent_view(agent))


@router.get(
    "/v1/agents/{agent_id}/conversations",
    response_model=WorklistOut,
    summary="An agent's worklist in priority order (supervisor, the agent)",
    responses=problem_responses(401, 403, 404),
)
async def get_worklist(agent_id: AgentId, caller: Caller, services: ServicesDep) -> Response:
    require_agent_or(caller, agent_id, Role.SUPERVISOR)

    def read(engine: Engine) -> dict[str, Any]:
        _agent(engine, agent_id)
        worklist = engine.worklist(agent_id)
        return {
            "agent_id": agent_id,
            "awaiting_agent": _summaries(engine, worklist.awaiting_agent),
            "awaiting_customer": _summaries(engine, worklist.awaiting_customer),
            "inactive": _summaries(engine, worklist.inactive),
        }

    return json_response(await services.runtime.execute(read))


@router.post(
    "/v1/agents/{agent_id}/take",
    response_model=TakeOut,
    summary="Pick up one more queued conversation, up to the maximum (the agent, supervisor)",
    responses=problem_responses(401, 403, 404),
)
async def take_more_work(agent_id: AgentId, caller: Caller, services: ServicesDep) -> Response:
    require_agent_or(caller, agent_id, Role.SUPERVISOR)

    def take(engine: Engine) -> dict[str, Any]:
        _agent(engine, agent_id)
        taken = engine.take_more_work(agent_id)
        if taken is None:
            return {"conversation": None}
        return {"conversation": conversation_summary(taken, engine.priority(taken.id))}

    return json_response(await services.runtime.execute(take))
