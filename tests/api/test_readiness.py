"""`/readyz` checks the database the API writes to: the file it opened (SQLite), at the code's
head revision. Temporal is unreachable here (127.0.0.1:9): only the `database` part is looked at.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from config_store.migrate import downgrade
from core.settings import Settings
from tests.support.auth import ADMIN_TOKEN, AUTH
from tests.support.db import sqlite_url_for


def app_on(url: str) -> TestClient:
    settings = Settings(
        database_url=url,
        temporal_address="127.0.0.1:9",
        allowed_hosts="testserver",
        orch_admin_token=ADMIN_TOKEN,
    )
    return TestClient(create_app(settings), headers=AUTH)


def database_part(http: TestClient) -> tuple[int, str]:
    response = http.get("/readyz")
    return response.status_code, response.json()["database"]


def test_a_migrated_database_is_ok(db_url: str) -> None:
    with app_on(db_url) as http:
        status, database = database_part(http)
    assert database == "ok" and status == 503  # 503 for Temporal only


def test_a_deleted_sqlite_file_is_not_ready_and_stays_deleted(sqlite_url: str) -> None:
    path = Path(str(make_url(sqlite_url).database))
    with app_on(sqlite_url) as http:
        assert database_part(http)[1] == "ok"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        started = time.monotonic()
        status, database = database_part(http)
        assert time.monotonic() - started < 3
        assert status == 503
        assert database == f"the SQLite database file {path.resolve()} no longer exists"
        assert not path.exists()  # the check did not create an empty one in its place


def test_a_replaced_sqlite_file_is_not_ready(sqlite_url: str, tmp_path: Path) -> None:
    path = Path(str(make_url(sqlite_url).database))
    with app_on(sqlite_url) as http:
        assert database_part(http)[1] == "ok"
        copy = tmp_path / "copy.db"
        shutil.copyfile(path, copy)
        os.replace(copy, path)  # same schema, another file: the pool still writes to the old
        status, database = database_part(http)
    assert status == 503 and "was replaced since the API opened it" in database


def test_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    with app_on(sqlite_url_for(tmp_path / "empty.db")) as http:
        status, database = database_part(http)
    assert status == 503
    assert database.startswith("the database is at no revision (an empty database), not ")
    assert database.endswith("run `orch db upgrade`")


def test_a_database_behind_the_code_is_not_ready(sqlite_url: str) -> None:
    downgrade(sqlite_url, "0002")
    with app_on(sqlite_url) as http:
        status, database = database_part(http)
    assert status == 503 and database.startswith("the database is at 0002, not ")
