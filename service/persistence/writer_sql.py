"""The writer's SQL: statements rendered once per dialect, rows as plain tuples.

SQLAlchemy's per-row parameter processing (compiled-statement lookup, bind processors,
dict-to-tuple conversion) cost the writer more than SQLite itself; the writer's
statements never change, so `DurableStore.commit` runs these with the driver's
`executemany`. Values arrive ready for the driver: JSON as text, timestamps as the
dialect keeps them (see `WriterSql.timestamp`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from tidal.engine.core.model import Agent, Conversation, MessageOutcome
from tidal.service.persistence import schema
from tidal.service.persistence.codec import dumps


@lru_cache(maxsize=8192)
def _sqlite_text(moment: datetime) -> str:
    """SQLite's text form of a UTC time. Cached: one message stamps several columns
    and rows with the same few moments, and formatting is a visible share of a commit."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


Row = tuple[Any, ...]


class WriterSql:
    """The writer's statements for one dialect, as driver SQL."""

    def __init__(self, dialect: sa.Dialect) -> None:
        self.sqlite = dialect.name == "sqlite"
        self._quote = dialect.identifier_preparer.quote
        self._mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.upsert_conversation = self._upsert(schema.conversations)
        self.upsert_agent = self._upsert(schema.agents)
        self.upsert_meta = self._upsert(schema.meta)
        self.insert_message = self._insert(schema.messages)
        self.insert_event = self._insert(schema.events)
        self.insert_timer = self._insert(schema.timers)
        self.delete_timers = (
            f"DELETE FROM {self._quote(schema.timers.name)} "
            f"WHERE {self._quote('conversation_id')} = {self._mark}"
        )
        # FOR SHARE: a new writer's claim (an UPDATE of this row) waits for this commit
        self.writer_epoch = (
            f"SELECT {self._quote('value')} FROM {self._quote(schema.meta.name)} "
            f"WHERE {self._quote('key')} = {self._mark}" + ("" if self.sqlite else " FOR SHARE")
        )

    def timestamp(self, moment: datetime | None) -> Any:
        """A datetime as `schema.UTCDateTime` stores it (SQLite: naive UTC text in
        SQLAlchemy's format, so reads through SQLAlchemy parse it as before)."""
        if moment is None:
            return None
        if self.sqlite:
            return _sqlite_text(moment)
        return moment.astimezone(UTC)

    def _insert(self, table: sa.Table) -> str:
        names = ", ".join(self._quote(c.name) for c in table.columns)
        marks = ", ".join(self._mark for _ in table.columns)
        return f"INSERT INTO {self._quote(table.name)} ({names}) VALUES ({marks})"

    def _upsert(self, table: sa.Table) -> str:
        keys = [c.name for c in table.primary_key.columns]
        updates = ", ".join(
            f"{self._quote(c.name)} = excluded.{self._quote(c.name)}"
            for c in table.columns
            if c.name not in keys
        )
        conflict = ", ".join(self._quote(k) for k in keys)
        return f"{self._insert(table)} ON CONFLICT ({conflict}) DO UPDATE SET {updates}"


def conversation_row(sql: WriterSql, c: Conversation) -> Row:
    # in the order of schema.conversations' columns
    return (
        c.id,
        str(c.state),
        str(c.awaiting) if c.awaiting is not None else None,
        c.agent_id,
        c.last_agent_id,
        c.channel,
        c.customer_id,
        sql.timestamp(c.respond_by),
        sql.timestamp(c.opened_at),
        sql.timestamp(c.closed_at),
        c.close_reason,
        c.version,
        dumps(c),
    )


def agent_row(a: Agent) -> Row:
    return (
        a.id,
        str(a.status),
        a.preferred_concurrency,
        a.max_concurrency,
        a.load,
        a.version,
        dumps(a),
    )


def message_row(sql: WriterSql, seq: int, o: MessageOutcome, response: bytes) -> Row:
    c = o.classification
    return (
        o.message_id,
        seq,
        o.conversation_id,
        o.direction,
        sql.timestamp(o.received_at),
        c.intent,
        c.confidence,
        c.source,
        str(o.decision.action),
        o.decision.rule_id,
        o.decision.reason,
        o.routing.agent_id,
        o.routing.reason,
        dumps(o),
        response.decode(),
    )
