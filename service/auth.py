"""Bearer-token authentication and the role rules of docs/http-api.md.

401: no token, a malformed header, or an unknown token. 403: the token's role may not
call the endpoint, or an agent token reaches for another agent's data. An agent's
conversations are those assigned to it or last served by it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tidal.engine.core.model import Conversation
from tidal.service.http.problems import Problem
from tidal.service.persistence.store import DurableStore
from tidal.service.persistence.tokens import TokenInfo, list_tokens, revoke_token
from tidal.service.tokens import Principal, Role, hash_token

log = logging.getLogger("tidal.auth")
bearer = HTTPBearer(
    auto_error=False,
    description="A Tidal token: `tidal token create --role service|agent|supervisor|admin`.",
)


#: how long a token found valid is trusted before the database is asked again: a token
#: revoked by another process (`tidal token revoke`) is refused within this (plus one
#: lookup); one revoked through this service's API is refused at once
RECHECK_SECONDS = 2.0


@dataclass(slots=True)
class _Checked:
    principal: Principal
    #: `time.monotonic()` of the last lookup that found the token valid
    at: float


class Authenticator:
    """Resolves tokens to principals; tokens found valid are cached by hash and looked
    up again once `RECHECK_SECONDS` old (one request re-checks, the others meanwhile
    keep the cached answer)."""

    def __init__(self, store: DurableStore, recheck_seconds: float = RECHECK_SECONDS) -> None:
        self._store = store
        self._recheck = recheck_seconds
        self._known: dict[str, _Checked] = {}
        #: tokens revoked through this service (a lookup already under way may not
        #: have seen the revocation yet)
        self._revoked: set[int] = set()

    async def principal(self, token: str | None) -> Principal:
        if not token:
            raise Problem("unauthorized", "send `Authorization: Bearer <token>`")
        digest = hash_token(token)
        now = time.monotonic()
        known = self._known.get(digest)
        if known is not None:
            if now - known.at < self._recheck:
                return known.principal
            known.at = now  # this request re-checks; the others need not wait for it
        try:
            found = await anyio.to_thread.run_sync(self._store.principal_for, digest)
        except Exception:
            if known is None:
                raise
            # while the database cannot be read no token can be revoked in it either:
            # the token stays valid until it can be checked again
            log.warning("token re-check failed; the cached answer stands", exc_info=True)
            return known.principal
        if found is None or found.token_id in self._revoked:
            self._known.pop(digest, None)
            raise Problem("unauthorized", "unknown or revoked token")
        self._known[digest] = _Checked(found, now)
        return found

    async def tokens(self) -> list[TokenInfo]:
        """Every token of the database, secrets aside (`GET /v1/admin/tokens`)."""
        return await anyio.to_thread.run_sync(list_tokens, self._store.engine)

    async def revoke(self, token_id: int) -> TokenInfo | None:
        """Revoke a token in the database and refuse it here at once; None: no such token."""
        revoked = await anyio.to_thread.run_sync(revoke_token, self._store.engine, token_id)
        if revoked is not None:
            self.refuse(token_id)
        return revoked

    def refuse(self, token_id: int) -> None:
        """Refuse a token from now on (it was revoked through this service)."""
        self._revoked.add(token_id)
        for digest, checked in list(self._known.items()):
            if checked.principal.token_id == token_id:
                del self._known[digest]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if there is one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from `Authorization: Bearer <token>` (401 otherwise)."""
    authenticator: Authenticator = request.app.state.services.auth
    return await authenticator.principal(credentials.credentials if credentials else None)


Caller = Annotated[Principal, Depends(current_principal)]


def require_role(principal: Principal, *roles: Role) -> None:
    """403 unless the principal has one of `roles`; an admin may do what a supervisor may
    (so the token printed at first start opens the desk's supervisor view)."""
    if principal.role is Role.ADMIN and Role.SUPERVISOR in roles:
        return
    if principal.role not in roles:
        allowed = ", ".join(str(r) for r in roles)
        raise Problem("forbidden", f"the {principal.role} role may not do this (needs: {allowed})")


def require_agent_or(principal: Principal, agent_id: str, *roles: Role) -> None:
    """Allow `roles`, and the agent token of `agent_id` itself."""
    if principal.role in roles:
        return
    if principal.role is Role.AGENT:
        if principal.agent_id == agent_id:
            return
        raise Problem("forbidden", "an agent token may only act on its own agent")
    require_role(principal, *roles)


def may_see_conversation(principal: Principal, conversation: Conversation) -> bool:
    """Whether an agent token's agent holds or last held the conversation."""
    return principal.agent_id is not None and principal.agent_id in (
        conversation.agent_id,
        conversation.last_agent_id,
    )


def require_conversation_access(
    principal: Principal, conversation: Conversation, *roles: Role
) -> None:
    """Allow `roles`, and the agent whose conversation it is."""
    if principal.role in roles:
        return
    if principal.role is Role.AGENT:
        if may_see_conversation(principal, conversation):
            return
        raise Problem("forbidden", "this conversation belongs to another agent")
    require_role(principal, *roles)
