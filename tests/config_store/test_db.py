"""config_store/db.py: `autocommit`, the connection for a write that is one statement."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config_store.db import autocommit, engine_of
from config_store.transcript import ENTRIES


def row(run_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "seq": 0, "role": "user", "body": {"role": "user", "text": "hi"}}


def stored(factory: sessionmaker[Session], run_id: str) -> list[Any]:
    with factory() as session:
        return list(session.execute(select(ENTRIES.c.seq).where(ENTRIES.c.run_id == run_id)))


def test_each_statement_is_committed_by_itself(session_factory: sessionmaker[Session]) -> None:
    with autocommit(session_factory) as connection:
        connection.execute(ENTRIES.insert(), row("a"))
        # Seen from another connection while this one is still checked out: committed.
        assert stored(session_factory, "a") == [(0,)]


def test_the_connection_is_transactional_again_after_it(
    session_factory: sessionmaker[Session],
) -> None:
    with autocommit(session_factory) as connection:
        used = connection.connection.driver_connection
        connection.execute(ENTRIES.insert(), row("a"))
    with session_factory() as session:
        # The pool hands the same connection back: a rollback must still undo a write on it.
        assert session.connection().connection.driver_connection is used
        session.execute(ENTRIES.insert(), row("b"))
        session.rollback()
    assert stored(session_factory, "b") == []


def test_on_sqlite_no_write_lock_is_held_between_statements(
    session_factory: sessionmaker[Session],
) -> None:
    engine = engine_of(session_factory)
    if engine.dialect.name != "sqlite":
        pytest.skip("the lock it is about is SQLite's one write lock")
    database = engine.url.database
    assert database is not None
    with autocommit(session_factory) as connection:
        connection.execute(ENTRIES.insert(), row("a"))
        # Another writer takes the lock at once (no busy wait): the INSERT gave it back.
        other = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
