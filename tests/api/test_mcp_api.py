"""/v1/mcp-servers: registration discovers a real MCP server's tools (stdio subprocess and
streamable HTTP), and /v1/tools shows them with their schemas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from tests.fakes.counting_server import SECRET, CountingServer
from tests.fakes.mcp_server import HttpMcpProcess, stdio_settings
from tests.support.auth import ADMIN_TOKEN, AUTH

TOKEN = "tok-SECRET-0123456789"


def allow_loopback(client: TestClient) -> None:
    """OUTBOUND_ALLOW_HOSTS=127.0.0.1 for this app (discovery reads the app's settings)."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
        update={"outbound_allow_hosts": "127.0.0.1"}
    )


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    """The API with stdio registration allowed (MCP_STDIO_FROM_API=true)."""
    with TestClient(
        create_app(
            Settings(
                database_url=db_url,
                mcp_stdio_from_api=True,
                allowed_hosts="testserver",
                orch_admin_token=ADMIN_TOKEN,
            )
        ),
        headers=AUTH,
    ) as c:
        yield c


def test_stdio_registration_is_refused_by_default(db_url: str) -> None:
    with TestClient(
        create_app(
            Settings(database_url=db_url, allowed_hosts="testserver", orch_admin_token=ADMIN_TOKEN)
        ),
        headers=AUTH,
    ) as plain:
        refused = plain.post("/v1/mcp-servers", json={"name": "local", **stdio_settings()})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "forbidden"
        assert refused.json()["detail"][0]["field"] == "transport"
        assert plain.get("/v1/mcp-servers").json() == []


def register(client: TestClient, name: str, **settings: Any) -> dict[str, Any]:
    r = client.post("/v1/mcp-servers", json={"name": name, **settings})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_stdio_server_tools_are_listed_with_their_schemas(basics: TestClient) -> None:
    client = basics
    body = register(client, "fake", **stdio_settings())

    assert body["discovery_error"] is None and body["discovered_at"]
    assert "fake__add" in body["discovery"]["created"]
    names = {tool["name"]: tool for tool in body["tools"]}
    assert names["fake__add"] == {
        "name": "fake__add",
        "tool": "add",
        "description": "Add two integers.",
        "stale": False,
    }
    tools = {tool["name"]: tool for tool in client.get("/v1/tools").json()}
    add = tools["fake__add"]
    assert add["kind"] == "mcp"
    assert add["parameters"]["required"] == ["a", "b"]
    assert add["parameters"]["properties"]["b"]["type"] == "integer"
    assert add["config"] == {"server": "fake", "tool": "add"}
    assert client.get("/v1/mcp-servers/fake").json()["tools"] == body["tools"]
    assert [s["name"] for s in client.get("/v1/mcp-servers").json()] == ["fake"]

    r = client.post("/v1/agents", json={"name": "adder", "provider": "p", "tools": ["fake__add"]})
    assert r.status_code == 201, r.text
    r = client.delete("/v1/mcp-servers/fake")
    assert r.status_code == 409
    assert "used by agents adder" in r.json()["detail"]
    assert client.delete("/v1/agents/adder").status_code == 204
    assert client.delete("/v1/mcp-servers/fake").status_code == 204
    assert [t["name"] for t in client.get("/v1/tools").json()] == ["calc"]
    assert client.get("/v1/mcp-servers/fake").status_code == 404


def test_http_server_with_a_header_from_the_env(
    client: TestClient, mcp_http_server: HttpMcpProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", TOKEN)
    allow_loopback(client)  # the test server is on loopback
    body = register(
        client,
        "web",
        transport="http",
        url=mcp_http_server.url,
        headers={"Authorization": "Bearer ${MCP_TEST_TOKEN}"},
    )

    assert body["discovery_error"] is None
    assert body["headers"] == {"Authorization": "Bearer ${MCP_TEST_TOKEN}"}  # the template
    assert "web__echo" in [t["name"] for t in client.get("/v1/tools").json()]


def test_unreachable_server_is_saved_with_the_error(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = register(client, "down", **{**stdio_settings(), "command": "/nonexistent/mcp"})
    assert body["tools"] == [] and body["discovered_at"] is None
    assert body["discovery"] is None
    assert "MCP server 'down'" in body["discovery_error"]

    monkeypatch.delenv("MISSING_TOKEN", raising=False)
    body = register(
        client,
        "needs-env",
        transport="http",
        url="http://127.0.0.1:9/mcp",
        headers={"Authorization": "${MISSING_TOKEN}"},
    )
    assert "references ${MISSING_TOKEN}, which is not set" in body["discovery_error"]


def test_update_and_rediscover(client: TestClient) -> None:
    register(client, "fake", **{**stdio_settings(), "command": "/nonexistent/mcp"})

    r = client.put("/v1/mcp-servers/fake", json=stdio_settings())
    assert r.status_code == 200, r.text
    assert r.json()["discovery_error"] is None
    assert "fake__echo" in r.json()["discovery"]["created"]

    r = client.post("/v1/mcp-servers/fake/discover")
    assert r.status_code == 200
    assert r.json()["discovery"]["created"] == []
    assert "fake__echo" in r.json()["discovery"]["unchanged"]
    assert client.post("/v1/mcp-servers/ghost/discover").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a.b", **stdio_settings()}, "name"),
        ({"name": "fake", "transport": "stdio"}, "command"),
        ({"name": "fake", "transport": "http"}, "url"),
        ({"name": "fake", "transport": "http", "url": "file:///etc/passwd"}, "url"),
        ({"name": "fake", **stdio_settings(), "timeout_s": -1}, "timeout_s"),
        ({"name": "fake", **stdio_settings(), "env": {"A": "${B"}}, "env.A"),
        (
            {
                "name": "fake",
                "transport": "http",
                "url": "https://h/mcp",
                "headers": {"Cookie": "x"},
            },
            "headers.Cookie",
        ),
    ],
)
def test_bad_registrations_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    r = client.post("/v1/mcp-servers", json=body)

    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == field
    assert client.get("/v1/mcp-servers").json() == []


def test_schema_errors_are_422(client: TestClient) -> None:
    r = client.post("/v1/mcp-servers", json={"name": "fake", "transport": "carrier-pigeon"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "body.transport"
    r = client.post("/v1/mcp-servers", json={"name": "fake", **stdio_settings(), "extra": 1})
    assert r.status_code == 422


def test_duplicate_is_409(client: TestClient) -> None:
    register(client, "down", **{**stdio_settings(), "command": "/nonexistent/mcp"})
    r = client.post(
        "/v1/mcp-servers",
        json={"name": "down", **stdio_settings(), "command": "/nonexistent/mcp"},
    )
    assert r.status_code == 409


def test_an_internal_url_is_refused_before_any_request_and_no_body_is_echoed(
    client: TestClient,
) -> None:
    internal = CountingServer()
    internal.start()
    try:
        url = f"{internal.base_url}/internal-admin"
        refused = register(client, "admin", transport="http", url=url)
        assert internal.requests == 0
        assert refused["discovery_error"] == (
            "MCP server 'admin': refused: 127.0.0.1 is a loopback address "
            "(set OUTBOUND_ALLOW_HOSTS to allow a host)"
        )
        allow_loopback(client)
        reached = client.post("/v1/mcp-servers/admin/discover")
        assert internal.requests >= 1
        assert SECRET not in reached.text
    finally:
        internal.stop()
