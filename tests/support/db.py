"""Real databases for tests: a migrated SQLite file per test, and (with TEST_POSTGRES_URL) a
migrated Postgres database per test, dropped afterwards.

Each backend is migrated once per session into a template; tests get a copy (a file copy, or
`CREATE DATABASE ... TEMPLATE`), which keeps a test's setup in the milliseconds.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config_store.db import make_engine, make_session_factory, normalize_url
from config_store.migrate import upgrade


def sqlite_url_for(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(sqlite_url_for(path))
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite file at the newest schema."""
    path = tmp_path / "orch.db"
    shutil.copyfile(_sqlite_template, path)
    return sqlite_url_for(path)


def _postgres_admin_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        reason = (
            "TEST_POSTGRES_URL is not set "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: Postgres tests must run in CI")
        pytest.skip(f"{reason}: skipping the Postgres variant")
    return normalize_url(url)


def _url_with_database(admin_url: str, database: str) -> str:
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture(scope="session")
def _postgres_admin() -> Iterator[Engine]:
    admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        yield admin
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def _postgres_template(_postgres_admin: Engine) -> Iterator[str]:
    name = f"orch_template_{uuid.uuid4().hex[:12]}"
    with _postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade(_url_with_database(_postgres_admin.url.render_as_string(False), name))
        yield name
    finally:
        _drop_database(_postgres_admin, name)


@pytest.fixture
def postgres_url(_postgres_admin: Engine, _postgres_template: str) -> Iterator[str]:
    """A fresh Postgres database at the newest schema, dropped after the test."""
    name = f"orch_test_{uuid.uuid4().hex[:12]}"
    with _postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_postgres_template}"'))
    try:
        yield _url_with_database(_postgres_admin.url.render_as_string(False), name)
    finally:
        _drop_database(_postgres_admin, name)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using it runs once per backend."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def session_factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose writes the test commits itself (or not)."""
    with session_factory() as s:
        yield s
