"""A database for a test: an SQLite file, or a fresh PostgreSQL schema dropped after."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.service.test_postgres import _server_url


class database:
    """An SQLite file, or a fresh PostgreSQL schema dropped afterwards."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind, self.tmp_path = kind, tmp_path
        self.schema = f"tidal_edge_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp_path / 'tidal.db'}"
        self.base = _server_url()
        engine = sa.create_engine(self.base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{self.schema}"')
        engine.dispose()
        return f"{self.base}?options=-csearch_path%3D{self.schema}"

    def __exit__(self, *_exc: object) -> None:
        if self.kind == "postgres":
            engine = sa.create_engine(self.base, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{self.schema}" CASCADE')
            engine.dispose()
