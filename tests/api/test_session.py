"""The web app's session cookie: sign in with a token, use the cookie as the token, sign out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.session_cookies import COOKIE, SessionClaims, sign
from config_store.tokens import token_sha256
from tests.support.auth import ADMIN_TOKEN, AUTH, make_token, settings_for

WEB = {"X-Requested-With": "orch-web"}
PROVIDER = {"name": "p", "kind": "scripted", "default_model": "m"}


@pytest.fixture
def browser(db_url: str) -> Iterator[TestClient]:
    """A client that sends no token unless told to, and keeps cookies like a browser."""
    with TestClient(create_app(settings_for(db_url, session_ttl_s=600))) as client:
        yield client


def sign_in(client: TestClient, token: str) -> dict[str, Any]:
    answer = client.post("/v1/session", json={"token": token})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_sign_in_sets_a_signed_http_only_strict_cookie(browser: TestClient) -> None:
    answer = browser.post("/v1/session", json={"token": ADMIN_TOKEN})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"token_id", "scope", "expires_at"}
    assert (body["token_id"], body["scope"]) == ("env", "admin")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=ss_")
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= flags and "secure" not in flags
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Max-Age=600" in cookie and "Path=/" in cookie
    assert ADMIN_TOKEN not in cookie and token_sha256(ADMIN_TOKEN) not in cookie


def test_the_cookie_is_secure_over_https(db_url: str) -> None:
    app = create_app(settings_for(db_url))
    with TestClient(app, base_url="https://testserver") as client:
        answer = client.post("/v1/session", json={"token": ADMIN_TOKEN})
        assert answer.status_code == 200
        assert "secure" in answer.headers["set-cookie"].lower()


def test_a_bad_token_is_a_401(browser: TestClient) -> None:
    for token in ("nope", ADMIN_TOKEN + "x", "orch_0123456789_" + "x" * 43):
        answer = browser.post("/v1/session", json={"token": token})
        assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized")
        assert "set-cookie" not in answer.headers


def test_the_cookie_reads_and_opens_the_event_stream(browser: TestClient) -> None:
    made = make_token(browser, "web", "read")
    assert sign_in(browser, made["token"])["scope"] == "read"
    who = browser.get("/v1/whoami")
    assert who.status_code == 200 and who.json() == {"token_id": made["id"], "scope": "read"}
    assert browser.get("/v1/agents").status_code == 200
    # Past authentication: the run is looked up in Temporal, which this app cannot reach.
    events = browser.get("/v1/runs/some-run/events")
    assert events.status_code != 401 and events.json()["error"] != "unauthorized", events.text
    # The token's scope, not more.
    refused = browser.post("/v1/providers", json=PROVIDER, headers=WEB)
    assert (refused.status_code, refused.json()["error"]) == (403, "insufficient_scope")


def test_a_write_with_the_cookie_needs_the_header(browser: TestClient) -> None:
    sign_in(browser, ADMIN_TOKEN)
    refused = browser.post("/v1/providers", json=PROVIDER)
    assert (refused.status_code, refused.json()["error"]) == (403, "csrf_header_missing")
    assert "X-Requested-With: orch-web" in refused.json()["detail"]
    assert browser.delete("/v1/providers/p").json()["error"] == "csrf_header_missing"
    wrong = browser.post("/v1/providers", json=PROVIDER, headers={"X-Requested-With": "x"})
    assert wrong.status_code == 403
    created = browser.post("/v1/providers", json=PROVIDER, headers=WEB)
    assert created.status_code == 201, created.text
    # A bearer token needs no such header.
    browser.cookies.clear()
    other = browser.post("/v1/providers", json={**PROVIDER, "name": "q"}, headers=AUTH)
    assert other.status_code == 201, other.text


def test_sign_out_clears_the_cookie(browser: TestClient) -> None:
    sign_in(browser, ADMIN_TOKEN)
    out = browser.delete("/v1/session")
    assert out.status_code == 204
    assert (
        out.headers["set-cookie"].startswith(f'{COOKIE}=""')
        or "Max-Age=0" in (out.headers["set-cookie"])
    )
    assert COOKIE not in browser.cookies
    assert browser.get("/v1/whoami").status_code == 401


def test_revoking_the_token_ends_its_sessions(browser: TestClient) -> None:
    made = make_token(browser, "web", "admin")
    sign_in(browser, made["token"])
    old = browser.cookies[COOKIE]
    assert browser.get("/v1/whoami").status_code == 200
    assert browser.delete(f"/v1/tokens/{made['id']}", headers=AUTH).status_code == 204
    browser.cookies.clear()
    browser.cookies.set(COOKIE, old)
    answer = browser.get("/v1/whoami")
    assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized")


def test_expired_and_tampered_cookies_are_401(browser: TestClient) -> None:
    key = bytes.fromhex(token_sha256(ADMIN_TOKEN))
    expired = sign(SessionClaims("env", int(time.time()) - 1), key)
    forged = sign(SessionClaims("env", int(time.time()) + 600), b"guess")
    good = sign(SessionClaims("env", int(time.time()) + 600), key)
    body, mac = good.removeprefix("ss_").split(".")
    longer = sign(SessionClaims("env", int(time.time()) + 10**6), key).removeprefix("ss_")
    spliced = f"ss_{longer.split('.')[0]}.{mac}"
    stream_token_like = "st_" + good.removeprefix("ss_")
    for cookie in (expired, forged, spliced, stream_token_like, "ss_", "junk", body):
        browser.cookies.clear()
        browser.cookies.set(COOKIE, cookie)
        answer = browser.get("/v1/whoami")
        assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized"), cookie
    browser.cookies.clear()
    browser.cookies.set(COOKIE, good)
    assert browser.get("/v1/whoami").status_code == 200


def test_with_auth_off_signing_in_sets_nothing(db_url: str) -> None:
    with TestClient(create_app(settings_for(db_url, api_auth="off"))) as client:
        answer = client.post("/v1/session", json={"token": "anything"})
        assert answer.status_code == 200 and answer.json()["scope"] == "admin"
        assert "set-cookie" not in answer.headers
