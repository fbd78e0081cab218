"""Engine and session factory from a database URL (SQLite by default, Postgres in production)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool


def normalize_url(url: str) -> str:
    """Use psycopg 3 for Postgres whatever spelling the URL uses."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """Build the engine. SQLite connections get foreign keys, WAL and a busy timeout."""
    sa_url = make_url(normalize_url(url))
    if sa_url.get_backend_name() != "sqlite":
        return create_engine(sa_url, pool_pre_ping=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if sa_url.database in (None, "", ":memory:"):
        # One shared connection, or every checkout would see a different empty database.
        kwargs["poolclass"] = StaticPool
    engine = create_engine(sa_url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def engine_of(factory: sessionmaker[Session]) -> Engine:
    """The engine `factory`'s sessions are bound to (TypeError when it is bound to none)."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("the session factory is not bound to an engine")
    return bind


def is_sqlite(factory: sessionmaker[Session]) -> bool:
    """Whether `factory`'s database is SQLite: a file of this machine, read in-process, with no
    network round trip (and in WAL mode, writers do not block its readers)."""
    bind = factory.kw.get("bind")
    return isinstance(bind, Engine) and bind.dialect.name == "sqlite"


T = TypeVar("T")


def in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """`work` in one transaction: committed if it returns, rolled back if it raises. Callers in
    async code run it with `asyncio.to_thread`, so the database is never held across an await."""
    with factory.begin() as session:
        return work(session)


@contextmanager
def autocommit(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """A connection of `factory`'s database on which each statement commits by itself, for a
    write that is one statement (atomic on its own, with no BEGIN or COMMIT around it).

    On SQLite this matters under load: in a transaction, the database's one write lock is held
    from the INSERT to the COMMIT, and between the two the thread waits for the GIL (up to a
    switch interval, 5 ms, on a busy process) while every other writer, in this process or
    another, sleeps in SQLite's busy handler (1, 2, 5, 10 ms...). A statement on its own takes
    and gives back the lock inside one call into SQLite. The driver's own autocommit (an
    `isolation_level` of None) is switched on for the block and off after it, as SQLAlchemy's
    AUTOCOMMIT level would do with a PRAGMA more each way. Other databases get that level.
    """
    engine = engine_of(factory)
    if engine.dialect.name != "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection
        return
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if driver is None:  # a connection of the pool is always open while checked out
            raise RuntimeError("the SQLite connection is closed")
        driver.isolation_level = None  # sqlite3: no implicit BEGIN
        try:
            yield connection
        finally:
            driver.isolation_level = ""  # sqlite3's default: BEGIN before a write
