"""Is the database the API writes to the migrated one it started on?

`SELECT 1` is not enough: a SQLite file deleted while the API runs goes unnoticed by the pooled
connections (they keep the unlinked inode, and writes vanish with it), and a new connection
creates an empty file in its place. So readiness also checks, for SQLite, that the file at the
URL's path is still the one the first connection opened, and, for every database, that its
Alembic revision is the code's head.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text

from config_store.migrate import alembic_config


@cache
def code_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with this code (read once)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def _sqlite_path(engine: Engine) -> Path | None:
    if engine.url.get_backend_name() != "sqlite":
        return None
    database = engine.url.database
    if database in (None, "", ":memory:") or database.startswith("file:"):
        return None
    return Path(database).resolve()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_dev, info.st_ino)


class DatabaseCheck:
    """Readiness of one engine's database. Make it right after the engine, before the first
    connection: for a SQLite file it records which file the first connection opens."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._path = _sqlite_path(engine)
        self._opened: tuple[int, int] | None = None
        if self._path is not None:
            event.listen(engine, "connect", self._on_connect)

    def _on_connect(self, dbapi_connection: Any, connection_record: Any) -> None:
        if self._opened is None and self._path is not None:
            self._opened = _identity(self._path)

    def problem(self) -> str | None:
        """None when the database answers at the code's head revision; else what is wrong.
        Blocking: call it from a thread."""
        path = self._path
        if path is not None and self._opened is not None:
            now = _identity(path)
            if now is None:
                return f"the SQLite database file {path} no longer exists"
            if now != self._opened:
                return f"the SQLite database file {path} was replaced since the API opened it"
        with self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
        heads = code_heads()
        if current != heads:
            at = ", ".join(sorted(current)) or "no revision (an empty database)"
            return f"the database is at {at}, not {', '.join(sorted(heads))}: run `orch db upgrade`"
        return None
