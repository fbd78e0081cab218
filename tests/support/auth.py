"""The admin token the tests' apps accept (`ORCH_ADMIN_TOKEN`), and the header that carries it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from core.settings import Settings

ADMIN_TOKEN = "orch_test_admin_0123456789abcdefghijklmnopqrstuv"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def settings_for(db_url: str, **changes: Any) -> Settings:
    """An app's settings on `db_url` accepting ADMIN_TOKEN, with no Temporal behind it."""
    return Settings(
        database_url=db_url,
        allowed_hosts="testserver",
        temporal_address="127.0.0.1:9",
        **{"orch_admin_token": ADMIN_TOKEN, **changes},
    )


def make_token(client: TestClient, name: str, scope: str) -> dict[str, Any]:
    """A stored token of `scope`, made with ADMIN_TOKEN: the answer of POST /v1/tokens."""
    made = client.post("/v1/tokens", json={"name": name, "scope": scope}, headers=AUTH)
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body
