"""Browser safety over real HTTP (uvicorn on a free port): allowed hosts, Origin and
Content-Type checks on state-changing requests, and CORS only for `CORS_ORIGINS`.

The config-route tests serve the app without Temporal (its client is lazy): the config store
answers, and what a refused request would have written is read back to show it was not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from api.guards import BrowserPolicy, host_of_header
from core.settings import Settings
from tests.support.auth import ADMIN_TOKEN, AUTH
from tests.support.runs import demo_spec, guarded, start_agent
from tests.support.temporal import serving

pytestmark = pytest.mark.timeout(60)

EVIL = "http://evil.example"
FORM = "application/x-www-form-urlencoded"
PROVIDER = {"name": "p", "kind": "scripted", "default_model": "m"}

Serve = Callable[..., Awaitable[str]]


@pytest.fixture
async def serve(sqlite_url: str) -> AsyncIterator[Serve]:
    """serve(**settings) -> base URL of the app on a free port (no Temporal behind it)."""
    stack: list[Any] = []

    async def start(**changes: Any) -> str:
        settings = Settings(
            database_url=sqlite_url,
            temporal_address="127.0.0.1:9",
            **{"orch_admin_token": ADMIN_TOKEN, **changes},
        )
        server = serving(settings)
        stack.append(server)
        return await server.__aenter__()

    try:
        yield start
    finally:
        for server in reversed(stack):
            await server.__aexit__(None, None, None)


async def providers(http: httpx.AsyncClient) -> list[str]:
    response = await http.get("/v1/providers")
    assert response.status_code == 200, response.text
    return [p["name"] for p in response.json()]


# --------------------------------------------------------------------------- Host


@pytest.mark.parametrize("path", ["/v1/providers", "/healthz", "/readyz"])
async def test_a_foreign_host_is_refused_everywhere(serve: Serve, path: str) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        response = await http.get(path, headers={"Host": "evil.example:8000"})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["error"] == "bad_host" and "evil.example" in body["detail"]
        # A write under a rebinding name never reaches the handler.
        wrote = await http.post(
            "/v1/providers", json=PROVIDER, headers={"Host": "rebind.evil.example"}
        )
        assert wrote.status_code == 400 and wrote.json()["error"] == "bad_host"
        assert await providers(http) == []


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST."])
async def test_loopback_names_are_allowed(serve: Serve, host: str) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        response = await http.get("/healthz", headers={"Host": host})
        assert response.status_code == 200, response.text


async def test_public_url_and_allowed_hosts_add_hosts(serve: Serve) -> None:
    base = await serve(public_url="https://orch.example.com", allowed_hosts="api, Other.internal")
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        for host in ("orch.example.com", "orch.example.com:443", "api:8000", "other.internal"):
            response = await http.get("/v1/providers", headers={"Host": host})
            assert response.status_code == 200, (host, response.text)
        response = await http.get("/v1/providers", headers={"Host": "elsewhere.example"})
        assert response.status_code == 400


async def test_a_star_allows_any_host(serve: Serve) -> None:
    base = await serve(allowed_hosts="*")
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        response = await http.get("/v1/providers", headers={"Host": "anything.example"})
        assert response.status_code == 200, response.text


def test_host_header_parsing() -> None:
    assert host_of_header("[::1]:8000") == "::1"
    assert host_of_header("Example.COM:80") == "example.com"
    assert host_of_header("::1") == "::1"
    policy = BrowserPolicy.from_settings(Settings(public_url="http://[::1]:9000"))
    assert policy.hosts == {"localhost", "127.0.0.1", "::1"}
    assert not policy.host_allowed("")
    # A specific bind address is allowed (clients use it); a wildcard one is not a host name.
    assert BrowserPolicy.from_settings(Settings(api_host="192.0.2.7")).host_allowed("192.0.2.7")
    assert not BrowserPolicy.from_settings(Settings(api_host="0.0.0.0")).host_allowed("0.0.0.0")


# --------------------------------------------------------------------------- Origin


async def test_a_cross_site_delete_is_refused_and_deletes_nothing(serve: Serve) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        assert (await http.post("/v1/providers", json=PROVIDER)).status_code == 201
        response = await http.delete("/v1/providers/p", headers={"Origin": EVIL})
        assert response.status_code == 403, response.text
        body = response.json()
        assert body["error"] == "forbidden_origin" and EVIL in body["detail"]
        assert await providers(http) == ["p"]


async def test_a_cross_site_json_post_is_refused(serve: Serve) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        for origin in (EVIL, "null", "http://localhost.evil.example"):
            response = await http.post("/v1/providers", json=PROVIDER, headers={"Origin": origin})
            assert response.status_code == 403, (origin, response.text)
        assert await providers(http) == []


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:5173", "https://localhost", "http://[::1]:3000", "https://orch.example.com"],
)
async def test_a_json_post_from_an_allowed_origin_passes(serve: Serve, origin: str) -> None:
    base = await serve(public_url="https://orch.example.com")
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        response = await http.post("/v1/providers", json=PROVIDER, headers={"Origin": origin})
        assert response.status_code == 201, response.text
        assert await providers(http) == ["p"]


async def test_cors_origins_may_change_things(serve: Serve) -> None:
    base = await serve(cors_origins="https://app.example")
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        headers = {"Origin": "https://app.example"}
        response = await http.post("/v1/providers", json=PROVIDER, headers=headers)
        assert response.status_code == 201, response.text
        assert response.headers["access-control-allow-origin"] == "https://app.example"
        other = await http.delete("/v1/providers/p", headers={"Origin": "https://app2.example"})
        assert other.status_code == 403


# --------------------------------------------------------------------------- Content-Type


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (FORM, "name=p&kind=scripted&default_model=m"),
        ("multipart/form-data; boundary=x", "--x--"),
        ("text/plain", json.dumps(PROVIDER)),
        (None, json.dumps(PROVIDER)),
    ],
)
async def test_a_body_that_is_not_json_is_refused(
    serve: Serve, content_type: str | None, body: str
) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        request = http.build_request("POST", "/v1/providers", content=body)
        assert "content-type" not in request.headers
        if content_type is not None:
            request.headers["content-type"] = content_type
        response = await http.send(request)
        assert response.status_code == 415, response.text
        body_out = response.json()
        assert body_out["error"] == "unsupported_media_type"
        assert "application/json" in body_out["detail"]
        assert await providers(http) == []


async def test_discover_with_text_plain_is_refused(serve: Serve) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        response = await http.post(
            "/v1/mcp-servers/none/discover", content="x", headers={"Content-Type": "text/plain"}
        )
        assert response.status_code == 415, response.text
        # Without a body or a content type the route is reached (and has no such server).
        reached = await http.post("/v1/mcp-servers/none/discover")
        assert reached.status_code == 404, reached.text


async def test_no_body_passes_but_a_form_type_without_one_does_not(serve: Serve) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        assert (await http.post("/v1/providers", json=PROVIDER)).status_code == 201
        refused = await http.delete("/v1/providers/p", headers={"Content-Type": FORM})
        assert refused.status_code == 415, refused.text
        assert await providers(http) == ["p"]
        done = await http.delete("/v1/providers/p")
        assert done.status_code == 204, done.text
        assert await providers(http) == []


async def test_json_with_a_charset_passes(serve: Serve) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        response = await http.post(
            "/v1/providers",
            content=json.dumps(PROVIDER),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        assert response.status_code == 201, response.text


# --------------------------------------------------------------------------- CORS


async def preflight(http: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await http.options(
        "/v1/providers",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_no_cors_without_cors_origins(serve: Serve) -> None:
    base = await serve()
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        for origin in (EVIL, "http://localhost:5173"):
            assert cors_headers(await preflight(http, origin)) == {}
            plain = await http.get("/v1/providers", headers={"Origin": origin})
            assert plain.status_code == 200 and cors_headers(plain) == {}


async def test_cors_answers_the_listed_origins_only(serve: Serve) -> None:
    base = await serve(cors_origins="https://app.example, http://localhost:5173/")
    async with httpx.AsyncClient(base_url=base, timeout=10, headers=AUTH) as http:
        for origin in ("https://app.example", "http://localhost:5173"):
            response = await preflight(http, origin)
            assert response.status_code == 200, response.text
            assert response.headers["access-control-allow-origin"] == origin
            assert "POST" in response.headers["access-control-allow-methods"]
            allowed_headers = response.headers["access-control-allow-headers"].lower()
            for header in ("authorization", "content-type", "last-event-id"):
                assert header in allowed_headers, allowed_headers
            assert "access-control-allow-credentials" not in response.headers
        refused = await preflight(http, EVIL)
        assert refused.headers.get("access-control-allow-origin") is None
        plain = await http.get("/v1/providers", headers={"Origin": EVIL})
        assert "access-control-allow-origin" not in plain.headers


@pytest.mark.parametrize("value", ["*", "https://a.example,*", "app.example", "https://a/x"])
def test_cors_origins_must_be_origins(value: str) -> None:
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        create_app(Settings(cors_origins=value))


# --------------------------------------------------------------------------- the finding


async def wait_for_approval(http: httpx.AsyncClient, run_id: str) -> None:
    async with http.stream("GET", f"/v1/runs/{run_id}/events") as response:
        async for line in response.aiter_lines():
            if line == "event: approval.requested":
                return
    raise AssertionError("the stream ended without approval.requested")


async def test_a_cross_site_form_post_does_not_cancel_a_run(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    """The finding: a form on http://evil.example POSTed to /cancel and the run was cancelled."""
    run_id = await start_agent(
        temporal_client, orch_settings, guarded(demo_spec(seeded)), "What is 12*7?"
    )
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        await wait_for_approval(http, run_id)
        for headers in ({"Origin": EVIL, "Content-Type": FORM}, {"Origin": EVIL}):
            response = await http.post(f"/v1/runs/{run_id}/cancel", content="", headers=headers)
            assert response.status_code == 403, response.text
            assert response.json()["error"] == "forbidden_origin"
        forged = await http.post(
            f"/v1/runs/{run_id}/cancel", content="x=1", headers={"Content-Type": FORM}
        )
        assert forged.status_code == 415, forged.text
        run = (await http.get(f"/v1/runs/{run_id}")).json()
        assert run["status"] == "running", run
        # The same cancel from a client that is not a cross-site page goes through.
        own = await http.post(f"/v1/runs/{run_id}/cancel")
        assert own.status_code == 202, own.text
