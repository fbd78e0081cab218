"""Tokens and scopes: every route but the health checks is locked, each by the scope it declares."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ACCESS_LOG_FILTER
from api.stream_tokens import StreamClaims, read_claims, sign, verify
from config_store.db import make_engine, make_session_factory
from config_store.tokens import mark_used, token_sha256
from core.errors import OrchError
from tests.support.auth import ADMIN_TOKEN, AUTH, make_token, settings_for

OPEN = {"/healthz", "/readyz"}
# Signing in and out: no token in a header (sign-in takes one in its body).
SIGN_IN = {("POST", "/v1/session"): 422, ("DELETE", "/v1/session"): 204}
PROVIDER = {"name": "p", "kind": "scripted", "default_model": "m"}


@pytest.fixture
def anonymous(db_url: str) -> Iterator[TestClient]:
    """The API, and a client that sends no token unless told to."""
    with TestClient(create_app(settings_for(db_url))) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def operations(client: TestClient) -> list[tuple[str, str, list[dict[str, list[str]]] | None]]:
    """(method, path with its parameters filled in, security) of every documented operation."""
    found = []
    for path, item in client.get("/openapi.json").json()["paths"].items():
        for method, operation in item.items():
            filled = re.sub(r"\{[^}]+\}", "x", path)
            found.append((method.upper(), filled, operation.get("security")))
    return found


def test_every_route_but_health_needs_a_token(anonymous: TestClient) -> None:
    ops = operations(anonymous)
    assert len(ops) > 40
    for method, path, security in ops:
        body = {} if method in {"POST", "PUT"} else None
        answer = anonymous.request(method, path, json=body)
        if path in OPEN:
            assert security is None and answer.status_code in {200, 503}, path
            continue
        if (method, path) in SIGN_IN:
            assert security is None and answer.status_code == SIGN_IN[method, path], path
            continue
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.json()["error"] == "unauthorized"
        assert answer.headers["www-authenticate"] == "Bearer"
        # A malformed or unknown token is no better than none.
        for token in ("nope", "orch_0123456789_" + "x" * 43, ADMIN_TOKEN + "x"):
            again = anonymous.request(method, path, json=body, headers=bearer(token))
            assert again.status_code == 401, (method, path, token)


def test_each_operation_declares_one_scope_and_docs_api_lists_it(anonymous: TestClient) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    for method, path, security in operations(anonymous):
        if path in OPEN or (method, path) in SIGN_IN:
            continue
        assert security is not None
        scopes = {scope for requirement in security for scope in requirement.get("bearer", [])}
        assert len(scopes) == 1, (method, path, security)
    # docs/api.md has one row per operation with its scope.
    for path, item in anonymous.get("/openapi.json").json()["paths"].items():
        for method, operation in item.items():
            if path in OPEN or (method.upper(), path) in SIGN_IN:
                continue
            scope = operation["security"][0]["bearer"][0]
            row = f"| `{method.upper()} {path}` | {scope} |"
            assert row in doc, f"docs/api.md lacks the row {row}"


# (method, path, body, the least scope it needs). Past the lock each answers without 401/403
# (a 404 for the missing names, or 503 as no Temporal runs behind this app).
TRIES = [
    ("GET", "/v1/providers", None, "read"),
    ("GET", "/v1/runs/x", None, "read"),
    ("POST", "/v1/runs", {"agent": "ghost", "input": "hi"}, "run"),
    ("POST", "/v1/runs/x/cancel", None, "run"),
    ("POST", "/v1/providers", PROVIDER, "admin"),
    ("DELETE", "/v1/tools/x", None, "admin"),
    ("GET", "/v1/mcp-servers", None, "admin"),
    ("GET", "/v1/tokens", None, "admin"),
]
RANK = {"read": 0, "run": 1, "admin": 2}


@pytest.mark.parametrize("scope", ["read", "run", "admin"])
def test_scopes_nest(anonymous: TestClient, scope: str) -> None:
    token = make_token(anonymous, f"t-{scope}", scope)["token"]
    for method, path, body, needed in TRIES:
        answer = anonymous.request(method, path, json=body, headers=bearer(token))
        if RANK[scope] >= RANK[needed]:
            assert answer.status_code not in {401, 403}, (scope, method, path, answer.text)
        else:
            assert answer.status_code == 403, (scope, method, path, answer.text)
            assert answer.json()["error"] == "insufficient_scope"
            assert repr(needed) in answer.json()["detail"]


def test_a_read_token_cannot_write_anything(anonymous: TestClient) -> None:
    token = make_token(anonymous, "reader", "read")["token"]
    for method, path, _ in operations(anonymous):
        if path in OPEN or (method, path) in SIGN_IN or method == "GET":
            continue
        body = {} if method in {"POST", "PUT"} else None
        answer = anonymous.request(method, path, json=body, headers=bearer(token))
        if path == "/v1/runs/x/stream-token":  # reading a run's events is a read
            assert answer.status_code != 403
            continue
        assert answer.status_code == 403, (method, path, answer.text)


def test_tokens_are_shown_once_listed_without_secrets_and_revocable(
    anonymous: TestClient, db_url: str
) -> None:
    made = make_token(anonymous, "ci", "run")
    token = made["token"]
    assert token.startswith(f"orch_{made['id']}_") and len(token) > 50
    assert made["last_used_at"] is None and made["revoked_at"] is None

    listed = anonymous.get("/v1/tokens", headers=AUTH)
    assert listed.status_code == 200
    assert token not in listed.text and token_sha256(token) not in listed.text
    (row,) = [t for t in listed.json() if t["id"] == made["id"]]
    assert set(row) == {"id", "name", "scope", "created_at", "last_used_at", "revoked_at"}

    assert anonymous.get("/v1/whoami", headers=bearer(token)).json() == {
        "token_id": made["id"],
        "scope": "run",
    }
    (row,) = [t for t in anonymous.get("/v1/tokens", headers=AUTH).json() if t["name"] == "ci"]
    assert row["last_used_at"] is not None

    assert anonymous.delete(f"/v1/tokens/{made['id']}", headers=AUTH).status_code == 204
    refused = anonymous.get("/v1/whoami", headers=bearer(token))
    assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
    (row,) = [t for t in anonymous.get("/v1/tokens", headers=AUTH).json() if t["name"] == "ci"]
    assert row["revoked_at"] is not None
    assert anonymous.delete(f"/v1/tokens/{made['id']}", headers=AUTH).status_code == 204
    missing = anonymous.delete("/v1/tokens/0000000000", headers=AUTH)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    bad = anonymous.post("/v1/tokens", json={"name": "x", "scope": "root"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.scope"


def test_last_used_is_written_at_most_once_a_minute(anonymous: TestClient, db_url: str) -> None:
    made = make_token(anonymous, "busy", "read")
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            from config_store.models import ApiToken

            row = session.get(ApiToken, made["id"])
            assert row is not None
            assert mark_used(session, row) is True
            session.commit()
            assert mark_used(session, row) is False
            assert row.last_used_at is not None
            assert mark_used(session, row, row.last_used_at + timedelta(seconds=61)) is True
    finally:
        engine.dispose()


def test_orch_admin_token_is_admin_and_must_be_long(db_url: str) -> None:
    with TestClient(create_app(settings_for(db_url))) as client:
        assert client.get("/v1/whoami", headers=AUTH).json() == {
            "token_id": "env",
            "scope": "admin",
        }
    with pytest.raises(OrchError, match="at least 32"):
        create_app(settings_for(db_url, orch_admin_token="short"))


def test_auth_off_is_loopback_only(db_url: str) -> None:
    with pytest.raises(OrchError, match="loopback only") as refused:
        create_app(settings_for(db_url, api_auth="off", api_host="0.0.0.0"))
    assert refused.value.code == "auth_off_not_loopback"
    with TestClient(create_app(settings_for(db_url, api_auth="off"))) as client:
        created = client.post("/v1/providers", json=PROVIDER)
        assert created.status_code == 201, created.text


def test_stream_tokens_are_bound_to_a_run_and_expire() -> None:
    key = b"k" * 32
    claims = StreamClaims(run_id="run-1", token_id="abc", expires_at=2_000)
    token = sign(claims, key)
    assert read_claims(token) is not None
    keys = {"abc": key}.get
    assert verify(token, "run-1", 1_999, keys) == claims
    assert verify(token, "run-2", 1_999, keys) is None  # another run
    assert verify(token, "run-1", 2_000, keys) is None  # expired
    assert verify(token, "run-1", 1_999, {}.get) is None  # its token revoked
    assert verify(token, "run-1", 1_999, {"abc": b"other"}.get) is None
    forged = sign(StreamClaims(run_id="run-1", token_id="abc", expires_at=9_999), b"guess")
    assert verify(forged, "run-1", 1_999, keys) is None
    body, mac = token.removeprefix("st_").split(".")
    longer = sign(StreamClaims(run_id="run-1", token_id="abc", expires_at=9_999), key)
    spliced = f"st_{longer.removeprefix('st_').split('.')[0]}.{mac}"
    assert verify(spliced, "run-1", 1_999, keys) is None
    for junk in ("", "st_", "st_a.b", "st_" + "a" * 3000, "orch_x", body):
        assert verify(junk, "run-1", 1_999, keys) is None


def test_a_stream_token_opens_nothing_but_its_events(anonymous: TestClient) -> None:
    token = sign(StreamClaims(run_id="x", token_id="env", expires_at=2**40), b"k")
    for method, path, _ in operations(anonymous):
        if path in OPEN or (method, path) in SIGN_IN or path.endswith("/events"):
            continue
        answer = anonymous.request(method, f"{path}?token={token}")
        assert answer.status_code == 401, (method, path)


def test_access_logs_hide_stream_tokens() -> None:
    import logging

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/v1/runs/r/events?include=tokens&token=st_abc.def", "1.1", 200),
        None,
    )
    assert ACCESS_LOG_FILTER.filter(record)
    assert "st_abc" not in record.getMessage()
    assert "include=tokens&token=[redacted]" in record.getMessage()


def test_the_document_declares_401_and_the_scope_403(anonymous: TestClient) -> None:
    for path, item in anonymous.get("/openapi.json").json()["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if path in OPEN:
                assert "401" not in responses
                continue
            if (method.upper(), path) in SIGN_IN:  # a bad token in the body is a 401
                assert "security" not in operation
                continue
            assert "`unauthorized`" in responses["401"]["description"], (method, path)
            scope = operation["security"][0]["bearer"][0]
            declared = "`insufficient_scope`" in responses.get("403", {}).get("description", "")
            assert declared == (scope != "read"), (method, path)
