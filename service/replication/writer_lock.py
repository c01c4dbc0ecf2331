"""One writer per database: the service that holds the lock runs the engine.

The engine is the in-memory authority over conversations and agents, so two services
writing one database would each decide from their own copy. Every `tidal serve` takes
this lock before it restores anything; one that cannot get it runs as a standby: it
answers 503 and takes the lock, restores and serves as soon as the writer stops or dies.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`, keyed by the schema
  of Tidal's tables) on a connection of its own, so it ends with the writer's session,
  whichever way the writer ends. A
  writer whose session was lost while it kept running is fenced off by the writer
  epoch (`DurableStore.claim_writer`): the next writer's claim makes its commits fail.
- SQLite: an exclusive `flock` on a file beside the database (`<db>-writer.lock`); the
  kernel releases it when the process ends, even by `kill -9`. An in-memory database
  is never shared, so it needs no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

#: the first half of the advisory lock's key ("ti" in ASCII); the second half is the hash
#: of the schema Tidal's tables are in, so deployments in other schemas of the same
#: database don't block each other
ADVISORY_CLASS = 0x7469


class WriterLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it (never blocks); True if this process holds it."""
        ...

    def release(self) -> None: ...


class PostgresWriterLock:
    def __init__(self, url: str) -> None:
        self._engine = sa.create_engine(url, poolclass=NullPool)
        self._connection: sa.Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = self._engine.connect()
        try:
            taken = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:class, hashtext(current_schema()))"),
                {"class": ADVISORY_CLASS},
            ).scalar_one()
            connection.commit()  # the lock outlives transactions; the session keeps it
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._connection.close()  # ending the session releases the lock
            self._connection = None
        self._engine.dispose()


class FileWriterLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file releases the lock
            self._fd = None


class NoWriterLock:
    """For a database no other process can open (SQLite in memory)."""

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        return None


def writer_lock_for(db_url: str) -> WriterLock:
    """The lock that guards the database at `db_url`."""
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        return PostgresWriterLock(db_url)
    if url.get_backend_name() == "sqlite":
        database = url.database
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            return NoWriterLock()
        return FileWriterLock(Path(database).with_name(Path(database).name + "-writer.lock"))
    raise ValueError(f"unsupported database: {url.get_backend_name()}")
