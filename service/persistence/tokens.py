"""Listing and revoking API tokens (`tidal token list`, `tidal token revoke`, and
`/v1/admin/tokens`). Only a token's hash is stored, so nothing here can show a secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tidal.service.persistence import schema


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is known about a token, its secret aside."""

    id: int
    role: str
    agent_id: str | None
    label: str | None
    created_at: datetime
    revoked: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "agent_id": self.agent_id,
            "label": self.label,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "revoked": self.revoked,
        }


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        role=row.role,
        agent_id=row.agent_id,
        label=row.label,
        created_at=row.created_at,
        revoked=bool(row.revoked),
    )


_COLUMNS = (
    schema.tokens.c.id,
    schema.tokens.c.role,
    schema.tokens.c.agent_id,
    schema.tokens.c.label,
    schema.tokens.c.created_at,
    schema.tokens.c.revoked,
)


def list_tokens(engine: sa.Engine) -> list[TokenInfo]:
    """Every token issued on this database, oldest first (none if it has no tables)."""
    if not sa.inspect(engine).has_table(schema.tokens.name):
        return []
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*_COLUMNS).order_by(schema.tokens.c.id))
        return [_info(r) for r in rows]


def revoke_token(engine: sa.Engine, token_id: int) -> TokenInfo | None:
    """Revoke a token (again is a no-op); None when there is no such token."""
    if not sa.inspect(engine).has_table(schema.tokens.name):
        return None
    t = schema.tokens.c
    with engine.begin() as conn:
        conn.execute(schema.tokens.update().where(t.id == token_id).values(revoked=True))
        row = conn.execute(sa.select(*_COLUMNS).where(t.id == token_id)).first()
    return _info(row) if row is not None else None
