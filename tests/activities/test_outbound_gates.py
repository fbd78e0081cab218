"""Issue 11 gates: MCP HTTP servers go through the outbound guard, discovery errors carry no
response body, and OUTBOUND_ALLOW_HOSTS matches hosts as written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from activities.tools.addresses import allow_key
from activities.tools.base import OutboundPolicy, ToolContext
from activities.tools.mcp_client import list_remote_tools
from activities.tools.mcp_pool import McpPool
from activities.tools.mcp_spec import McpUnavailable
from activities.tools.net import BlockedDestination, fetch
from config_store.mcp_spec import ServerSpec
from tests.fakes.counting_server import SECRET, CountingServer
from tests.fakes.local_server import LocalServer


@pytest.fixture
def counting() -> Iterator[CountingServer]:
    server = CountingServer()
    server.start()
    yield server
    server.stop()


def _spec(url: str) -> ServerSpec:
    return ServerSpec(name="admin", transport="http", url=url)


async def test_discovery_of_a_loopback_url_is_refused_before_any_request(
    counting: CountingServer,
) -> None:
    with pytest.raises(McpUnavailable) as caught:
        await list_remote_tools(_spec(f"{counting.base_url}/internal-admin"), {})
    assert counting.requests == 0
    assert str(caught.value) == (
        "MCP server 'admin': refused: 127.0.0.1 is a loopback address "
        "(set OUTBOUND_ALLOW_HOSTS to allow a host)"
    )


async def test_the_worker_pool_refuses_a_loopback_url_before_any_request(
    counting: CountingServer,
) -> None:
    pool = McpPool({})
    try:
        spec = {"name": "admin", "transport": "http", "url": f"{counting.base_url}/mcp"}
        with pytest.raises(McpUnavailable) as caught:
            await pool.call_tool(spec, "anything", {})
    finally:
        await pool.close()
    assert counting.requests == 0
    assert "OUTBOUND_ALLOW_HOSTS" in str(caught.value)


async def test_an_allowlisted_host_is_reached_but_its_body_is_not_echoed(
    counting: CountingServer,
) -> None:
    with pytest.raises(McpUnavailable) as caught:
        await list_remote_tools(
            _spec(f"{counting.base_url}/internal-admin"), {}, frozenset({"127.0.0.1"})
        )
    assert counting.requests >= 1
    assert SECRET not in str(caught.value)
    assert str(caught.value).endswith("the server's answer is not a valid MCP message")


async def test_an_http_error_status_is_named_without_its_body() -> None:
    async def fail(request: Request) -> Response:
        return Response(f"stack trace with {SECRET}", status_code=500)

    server = LocalServer(Starlette(routes=[Route("/mcp", fail, methods=["POST"])]), "failing")
    server.start()
    try:
        with pytest.raises(McpUnavailable) as caught:
            await list_remote_tools(_spec(f"{server.base_url}/mcp"), {}, frozenset({"127.0.0.1"}))
    finally:
        server.stop()
    assert SECRET not in str(caught.value)
    assert str(caught.value).endswith("Server returned an error response (HTTP 500)")


@pytest.mark.parametrize(
    ("host", "entry"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("LOCALHOST.", "localhost"),
        ("[::0001]", "::1"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "Bücher.Example"),
    ],
)
def test_an_allowlist_entry_matches_its_host_as_written(host: str, entry: str) -> None:
    assert allow_key(host) == allow_key(entry)


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.1", "0x7f000001", "127.0.1"])
def test_shorthand_ipv4_never_matches_a_dotted_quad_entry(host: str) -> None:
    assert allow_key(host) != allow_key("127.0.0.1")


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.1"])
async def test_fetch_refuses_shorthand_forms_of_an_allowlisted_address(
    counting: CountingServer, host: str, tmp_path: Path
) -> None:
    ctx = ToolContext(
        workspace_dir=tmp_path, outbound=OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    )
    with pytest.raises(BlockedDestination, match="OUTBOUND_ALLOW_HOSTS"):
        await fetch(ctx, "GET", f"http://{host}:{counting.port}/")
    assert counting.requests == 0
    allowed = await fetch(ctx, "GET", f"http://127.0.0.1:{counting.port}/")
    assert allowed.status == 200
