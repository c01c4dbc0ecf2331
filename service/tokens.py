"""API tokens: roles, generation and hashing (docs/http-api.md).

A token is `tidal_` followed by 256 random bits. Only its SHA-256 is stored: with that
much entropy a fast hash is safe, and a lookup by hash never compares secrets directly.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

TOKEN_PREFIX = "tidal_"


class Role(StrEnum):
    SERVICE = "service"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's role, and for agent tokens the one agent it acts for."""

    token_id: int
    role: Role
    agent_id: str | None = None


def new_token() -> str:
    """A fresh high-entropy token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two token hashes."""
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))
