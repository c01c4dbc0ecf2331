"""The SQL schema (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Each conversation and agent row keeps the engine's full snapshot as JSON (the source
of truth for restore) next to the columns people and queries need. Messages keep the
decision and the HTTP response given (replayed for duplicates); events are the audit
trail and the source of SSE resumption; timers mirror the pending deadlines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

SCHEMA_VERSION = "1"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("state", String(16), nullable=False, index=True),
    Column("awaiting", String(16)),
    Column("agent_id", String(255), index=True),
    Column("last_agent_id", String(255), index=True),
    Column("channel", String(64)),
    Column("customer_id", String(255)),
    Column("respond_by", UTCDateTime()),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime()),
    Column("close_reason", String(64)),
    Column("version", Integer, nullable=False),
    Column("snapshot", Text, nullable=False),
)

agents = Table(
    "agents",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("preferred_concurrency", Integer, nullable=False),
    Column("max_concurrency", Integer, nullable=False),
    Column("load", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("snapshot", Text, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    # the caller's message id: unique, so a message can never be applied twice
    Column("message_id", String(255), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("conversation_id", String(255), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("intent", String(64), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("source", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("rule_id", String(255)),
    Column("reason", String(64)),
    Column("routing_agent_id", String(255)),
    Column("routing_reason", String(32), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("response", Text, nullable=False),
    Index("ix_messages_conversation_seq", "conversation_id", "seq"),
)

events = Table(
    "events",
    metadata,
    # assigned by the single writer in commit order; SSE event ids
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("conversation_id", String(255), index=True),
    Column("agent_id", String(255)),
    # the agent whose live stream shows the event (see store.EventRow)
    Column("audience", String(255), index=True),
    Column("reason", String(64)),
    Column("message_id", String(255)),
    Column("data", Text, nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("due_at", UTCDateTime(), nullable=False, index=True),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("agent_id", String(255)),
    Column("label", String(255)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

#: small key/value facts: schema version, the manual clock's time
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
