from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from tests.support.auth import ADMIN_TOKEN, AUTH


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(
        create_app(
            Settings(database_url=db_url, allowed_hosts="testserver", orch_admin_token=ADMIN_TOKEN)
        ),
        headers=AUTH,
    ) as c:
        yield c


@pytest.fixture
def basics(client: TestClient) -> TestClient:
    """A provider `p` and a tool `calc`."""
    r = client.post("/v1/providers", json={"name": "p", "kind": "scripted", "default_model": "m"})
    assert r.status_code == 201, r.text
    r = client.post("/v1/tools", json={"name": "calc", "kind": "calculator"})
    assert r.status_code == 201, r.text
    return client
