"""The durable store: one transaction per commit batch, reads for restore and the API.

SQLite (default) runs in WAL mode with `synchronous=FULL`, so a committed batch is on
disk when `commit` returns. The same code runs on PostgreSQL (`postgresql+psycopg://`).
Only one writer (the service's group-commit thread) writes engine changes; it assigns
event ids and message sequence numbers itself, in commit order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from tidal.engine.core.model import Agent, Conversation, Event, MessageOutcome
from tidal.service.persistence import schema
from tidal.service.persistence.codec import dumps, loads
from tidal.service.persistence.faults import is_unavailable
from tidal.service.persistence.writer_sql import (
    Row,
    WriterSql,
    agent_row,
    conversation_row,
    message_row,
)
from tidal.service.tokens import Principal, Role, hash_token, new_token, same_hash


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An audit-trail event as committed, with its id (the SSE event id)."""

    id: int
    kind: str
    at: datetime
    conversation_id: str | None
    agent_id: str | None
    reason: str | None
    message_id: str | None
    data: dict[str, Any]
    #: the agent whose live stream shows it: the event's agent, else the conversation's
    #: agent or last agent
    audience: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "conversation_id": self.conversation_id,
            "agent_id": self.agent_id,
            "reason": self.reason,
            "message_id": self.message_id,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class EventRow:
    """An engine event, the message that caused it, and the agent whose stream shows it."""

    event: Event
    message_id: str | None
    audience: str | None


@dataclass
class CommitBatch:
    """Engine changes of one or more requests, written in one transaction."""

    conversations: dict[str, Conversation] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    #: each new message outcome with the JSON of the response it was given
    messages: list[tuple[MessageOutcome, bytes]] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.conversations or self.agents or self.messages or self.events or self.meta)


#: `meta` key of the writer epoch (PostgreSQL; see `DurableStore.claim_writer`)
WRITER_EPOCH_KEY = "writer_epoch"
#: `meta` key of the base URL where the writer answers (see `tidal.service.replication.forwarding`)
WRITER_ADDRESS_KEY = "writer_address"


class StaleWriter(RuntimeError):
    """This service is no longer the database's writer: it must not commit."""


@dataclass
class RestoredState:
    conversations: list[Conversation]
    agents: list[Agent]
    #: the latest messages' outcomes, oldest first (not every message's)
    recent_outcomes: list[MessageOutcome]
    meta: dict[str, str]
    #: how many messages the database holds
    message_count: int = 0


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine; for SQLite: WAL, synchronous=FULL, foreign threads allowed."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_size=8, pool_pre_ping=True)


@cache
def _upsert_statement(dialect: str, table: sa.Table) -> sa.Executable:
    """INSERT ... ON CONFLICT (primary key) DO UPDATE, built once per table."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
    )


def _upsert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_upsert_statement(conn.dialect.name, table), list(rows))


def _stored_event(row: Any) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        kind=row.kind,
        at=row.at,
        conversation_id=row.conversation_id,
        agent_id=row.agent_id,
        reason=row.reason,
        message_id=row.message_id,
        data=orjson.loads(row.data),
        audience=row.audience,
    )


class DurableStore:
    """Tidal's tables in one database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._next_event_id = 1
        self._next_message_seq = 1
        self._sql: WriterSql | None = None
        #: the writer epoch this store claimed (None: commits check none)
        self._epoch: int | None = None

    # -- lifecycle -------------------------------------------------------------------

    def create_schema(self) -> None:
        """Create missing tables (idempotent) and note the schema version."""
        schema.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            _upsert(conn, schema.meta, [{"key": "schema_version", "value": schema.SCHEMA_VERSION}])
            self._read_next_ids(conn)

    def claim_writer(self) -> int | None:
        """Make this store the database's writer (call with the writer lock held).

        On PostgreSQL the writer epoch in `meta` goes up by one, and every later commit
        checks it: a previous writer that lost its lock but still runs (its session
        ended, say) can then commit nothing more. Its commit in progress, if any,
        finishes first, and the next ids are read after it. Returns the epoch (None on
        SQLite, whose writer lock the kernel keeps)."""
        if self.engine.dialect.name != "postgresql":
            return None
        m = schema.meta.c
        with self.engine.begin() as conn:
            current = conn.execute(
                sa.select(m.value).where(m.key == WRITER_EPOCH_KEY).with_for_update()
            ).scalar()
            epoch = int(current or 0) + 1
            _upsert(conn, schema.meta, [{"key": WRITER_EPOCH_KEY, "value": str(epoch)}])
        with self.engine.begin() as conn:
            self._read_next_ids(conn)
        self._epoch = epoch
        return epoch

    def advertise_writer(self, address: str | None) -> None:
        """Tell the other replicas where the writer answers (None: nowhere they can
        reach; they answer 503 until a writer advertises an address)."""
        with self.engine.begin() as conn:
            _upsert(conn, schema.meta, [{"key": WRITER_ADDRESS_KEY, "value": address or ""}])

    def writer_address(self) -> str | None:
        """The base URL the database's writer advertised, if any."""
        m = schema.meta.c
        try:
            with self.engine.connect() as conn:
                value = conn.execute(sa.select(m.value).where(m.key == WRITER_ADDRESS_KEY)).scalar()
        except sa.exc.DBAPIError:  # e.g. no tables yet: the first writer is starting
            return None
        return value or None

    def _read_next_ids(self, conn: Connection) -> None:
        self._next_event_id = 1 + (
            conn.execute(sa.select(sa.func.max(schema.events.c.id))).scalar() or 0
        )
        self._next_message_seq = 1 + (
            conn.execute(sa.select(sa.func.max(schema.messages.c.seq))).scalar() or 0
        )

    def close(self) -> None:
        self.engine.dispose()

    # -- the writer ------------------------------------------------------------------

    def commit(self, batch: CommitBatch) -> list[StoredEvent]:
        """Write a batch in one transaction; return its events with their new ids.

        Ids are only taken once the transaction committed, so a failed commit leaves
        no gap and the caller may retry.
        """
        event_id, seq = self._next_event_id, self._next_message_seq
        sql = self._writer_sql()
        stored: list[StoredEvent] = []
        event_rows: list[Row] = []
        for offset, row in enumerate(batch.events):
            event, message_id = row.event, row.message_id
            kind = str(event.kind)
            stored.append(
                StoredEvent(
                    id=event_id + offset,
                    kind=kind,
                    at=event.at,
                    conversation_id=event.conversation_id,
                    agent_id=event.agent_id,
                    reason=event.reason,
                    message_id=message_id,
                    data=event.data,
                    audience=row.audience,
                )
            )
            # in the order of schema.events' columns
            event_rows.append(
                (
                    event_id + offset,
                    kind,
                    sql.timestamp(event.at),
                    event.conversation_id,
                    event.agent_id,
                    row.audience,
                    event.reason,
                    message_id,
                    dumps(event.data),
                )
            )
        conversations = list(batch.conversations.values())
        with self.engine.begin() as conn:
            cursor = conn.connection.cursor()
            try:
                if self._epoch is not None:
                    cursor.execute(sql.writer_epoch, (WRITER_EPOCH_KEY,))
                    claimed = cursor.fetchone()
                    if claimed is None or int(claimed[0]) != self._epoch:
                        raise StaleWriter(
                            "another Tidal service became the writer of this database"
                        )
                if conversations:
                    cursor.executemany(
                        sql.upsert_conversation, [conversation_row(sql, c) for c in conversations]
                    )
                    cursor.executemany(sql.delete_timers, [(c.id,) for c in conversations])
                    timer_rows = [
                        (c.id, kind, sql.timestamp(due))
                        for c in conversations
                        for kind, due in c.timers.items()
                    ]
                    if timer_rows:
                        cursor.executemany(sql.insert_timer, timer_rows)
                if batch.agents:
                    cursor.executemany(
                        sql.upsert_agent, [agent_row(a) for a in batch.agents.values()]
                    )
                if batch.messages:
                    cursor.executemany(
                        sql.insert_message,
                        [
                            message_row(sql, seq + i, o, r)
                            for i, (o, r) in enumerate(batch.messages)
                        ],
                    )
                if event_rows:
                    cursor.executemany(sql.insert_event, event_rows)
                if batch.meta:
                    cursor.executemany(sql.upsert_meta, list(batch.meta.items()))
            finally:
                cursor.close()
        self._next_event_id = event_id + len(event_rows)
        self._next_message_seq = seq + len(batch.messages)
        return stored

    def reread(
        self, conversation_ids: Iterable[str], agent_ids: Iterable[str]
    ) -> tuple[list[Conversation], list[Agent]]:
        """The named conversations and agents as stored (absent ones left out), after a
        failed commit; raises when the database cannot be read.

        The next event id and message sequence number are read again too: a commit
        whose acknowledgement was lost (the connection dropped as it committed) may
        have landed after all."""
        conversations = [
            loads(Conversation, text)
            for text in self._snapshots(schema.conversations, sorted(set(conversation_ids)))
        ]
        agents = [
            loads(Agent, text) for text in self._snapshots(schema.agents, sorted(set(agent_ids)))
        ]
        with self.engine.connect() as conn:
            self._read_next_ids(conn)
        return conversations, agents

    def _snapshots(self, table: sa.Table, ids: list[str]) -> list[str]:
        """The stored snapshots of the rows with these ids."""
        column = table.c.id

        def read(chunk: list[str]) -> list[str]:
            with self.engine.connect() as conn:
                query = sa.select(table.c.snapshot).where(column.in_(chunk))
                return [r.snapshot for r in conn.execute(query)]

        try:
            return [text for chunk in _chunks(ids) for text in read(chunk)]
        except Exception as exc:
            if is_unavailable(exc):
                raise
        # an id the database cannot even compare (NUL on PostgreSQL, a lone surrogate)
        # is one it cannot hold either: look at each id alone and skip those
        found: list[str] = []
        for one in ids:
            try:
                found.extend(read([one]))
            except Exception as exc:
                if is_unavailable(exc):
                    raise
        return found

    def _writer_sql(self) -> WriterSql:
        if self._sql is None:
            self._sql = WriterSql(self.engine.dialect)
        return self._sql

    # -- restore ---------------------------------------------------------------------

    def load_state(self, recent_outcomes: int) -> RestoredState:
        """What the engine needs to continue where it stopped: every conversation and
        agent, and the outcomes of the `recent_outcomes` latest messages (the ids of all
        messages come from `message_ids`)."""
        m = schema.messages.c
        with self.engine.connect() as conn:
            convs = [
                loads(Conversation, r.snapshot)
                for r in conn.execute(sa.select(schema.conversations.c.snapshot))
            ]
            agents = [
                loads(Agent, r.snapshot) for r in conn.execute(sa.select(schema.agents.c.snapshot))
            ]
            latest = sa.select(m.outcome).order_by(m.seq.desc()).limit(recent_outcomes)
            outcomes = [loads(MessageOutcome, r.outcome) for r in conn.execute(latest)]
            outcomes.reverse()
            count = conn.execute(sa.select(sa.func.count()).select_from(schema.messages))
            meta = {r.key: r.value for r in conn.execute(sa.select(schema.meta))}
        return RestoredState(convs, agents, outcomes, meta, message_count=int(count.scalar_one()))

    def message_ids(self, chunk: int = 10_000) -> Iterator[str]:
        """The id of every stored message, streamed in chunks (a long history never
        sits in memory at once)."""
        query = sa.select(schema.messages.c.message_id)
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=chunk).execute(query)
            for row in result:
                yield row.message_id

    def stored_outcome(self, message_id: str) -> MessageOutcome | None:
        """What handling a stored message did, or None if no such message is stored."""
        with self.engine.connect() as conn:
            text = conn.execute(
                sa.select(schema.messages.c.outcome).where(
                    schema.messages.c.message_id == message_id
                )
            ).scalar()
        return None if text is None else loads(MessageOutcome, text)

    # -- reads for the API -------------------------------------------------------------

    def stored_response(self, message_id: str) -> dict[str, Any] | None:
        """The response first given for a message id (for duplicates)."""
        with self.engine.connect() as conn:
            text = conn.execute(
                sa.select(schema.messages.c.response).where(
                    schema.messages.c.message_id == message_id
                )
            ).scalar()
        if text is None:
            return None
        data = orjson.loads(text)
        assert isinstance(data, dict)
        return data

    def events_after(
        self, last_id: int, *, agent_id: str | None = None, limit: int = 1000
    ) -> list[StoredEvent]:
        """Committed events with id above `last_id`, oldest first (SSE resumption)."""
        query = sa.select(schema.events).where(schema.events.c.id > last_id)
        if agent_id is not None:
            query = query.where(schema.events.c.audience == agent_id)
        query = query.order_by(schema.events.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_stored_event(r) for r in conn.execute(query)]

    def recent_decisions(self, conversation_id: str, limit: int) -> list[dict[str, Any]]:
        """The latest message decisions of a conversation, newest first."""
        m = schema.messages.c
        query = (
            sa.select(
                m.message_id,
                m.direction,
                m.received_at,
                m.intent,
                m.confidence,
                m.source,
                m.action,
                m.rule_id,
                m.reason,
                m.routing_agent_id,
                m.routing_reason,
            )
            .where(m.conversation_id == conversation_id)
            .order_by(m.seq.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                {
                    "message_id": r.message_id,
                    "direction": r.direction,
                    "received_at": r.received_at.isoformat(),
                    "intent": r.intent,
                    "confidence": r.confidence,
                    "source": r.source,
                    "action": r.action,
                    "rule_id": r.rule_id,
                    "reason": r.reason,
                    "routing": {"agent_id": r.routing_agent_id, "reason": r.routing_reason},
                }
                for r in conn.execute(query)
            ]

    def recent_events(self, conversation_id: str, limit: int) -> list[StoredEvent]:
        """The latest audit-trail events of a conversation, newest first."""
        e = schema.events.c
        query = (
            sa.select(schema.events)
            .where(e.conversation_id == conversation_id)
            .order_by(e.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_stored_event(r) for r in conn.execute(query)]

    # -- tokens ----------------------------------------------------------------------

    def create_token(
        self, role: Role, *, agent_id: str | None = None, label: str | None = None
    ) -> str:
        """Issue a token; only its hash is stored. Returns the token (shown once)."""
        if (role is Role.AGENT) != (agent_id is not None):
            raise ValueError("an agent token needs --agent, and only agent tokens take one")
        token = new_token()
        with self.engine.begin() as conn:
            conn.execute(
                schema.tokens.insert().values(
                    token_hash=hash_token(token),
                    role=str(role),
                    agent_id=agent_id,
                    label=label,
                    created_at=datetime.now(UTC),
                    revoked=False,
                )
            )
        return token

    def has_token(self, role: Role) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(schema.tokens.c.id).where(schema.tokens.c.role == str(role)).limit(1)
            ).first()
        return found is not None

    def principal_for(self, token_hash: str) -> Principal | None:
        """Who holds the token with this hash, if it exists and is not revoked."""
        t = schema.tokens.c
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.id, t.token_hash, t.role, t.agent_id, t.revoked).where(
                    t.token_hash == token_hash
                )
            ).first()
        if row is None or row.revoked or not same_hash(row.token_hash, token_hash):
            return None
        return Principal(token_id=row.id, role=Role(row.role), agent_id=row.agent_id)

    def count(self, table: sa.Table) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def _chunks(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    """`ids` in pieces small enough for one IN list (SQLite caps bound parameters)."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def event_rows_for(
    events: Iterable[Event],
    outcomes: Iterable[MessageOutcome],
    conversations: Mapping[str, Conversation],
) -> list[EventRow]:
    """Each event with the message that caused it and the agent it concerns."""
    cause = {id(e): o.message_id for o in outcomes for e in o.events}
    rows = []
    for event in events:
        audience = event.agent_id
        if audience is None and event.conversation_id is not None:
            conversation = conversations.get(event.conversation_id)
            if conversation is not None:
                audience = conversation.agent_id or conversation.last_agent_id
        rows.append(EventRow(event, cause.get(id(event)), audience))
    return rows
