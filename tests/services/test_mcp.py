"""MCP discovery (services/mcp.py's use case): a server's tools listed over the wire (stdio and
streamable HTTP) and stored as tools that snapshots carry and the worker runs, and the seed
file's `mcp_servers` section, discovered before the agents that use their tools."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from activities.tools.base import ToolContext
from activities.tools.mcp_client import list_remote_tools
from activities.tools.mcp_pool import McpPool
from activities.tools.mcp_spec import McpUnavailable
from activities.tools.registry import execute_tool
from config_store import mcp_servers as servers
from config_store.agents import create_agent, snapshot_agent
from config_store.mcp_discovery import DiscoveryChanges
from config_store.specs import AgentIn
from config_store.tools import get_tool
from core.errors import InvalidConfig
from services import mcp
from services.mcp import discover_in
from services.seed import load_config
from tests.fakes.mcp_server import HttpMcpProcess, stdio_settings
from tests.support.mcp import stdio_in

ENV = {"MCP_TOKEN": "tok-SECRET-0123456789"}


async def discover(session: Session, name: str) -> DiscoveryChanges:
    """The seed file's way: within the caller's transaction."""
    found = discover_in(session, name, ENV)
    assert found.listed, found.error
    return found.changes


async def test_stdio_discovery_stores_the_tools(session: Session) -> None:
    servers.create_server(session, "fake", stdio_in())
    changes = await discover(session, "fake")
    session.commit()

    assert "fake__add" in changes.created and "fake__pid" in changes.created
    add = get_tool(session, "fake__add")
    assert (add.kind, add.description) == ("mcp", "Add two integers.")
    assert add.parameters["required"] == ["a", "b"]
    assert add.parameters["properties"]["a"]["type"] == "integer"
    assert add.config == {"server": "fake", "tool": "add"}
    assert add.timeout_s == 40.0  # twice the server's request timeout
    row = servers.get_server(session, "fake")
    assert row.discovered_at is not None and row.discovery_error is None
    again = await discover(session, "fake")
    assert again.created == [] and "fake__add" in again.unchanged


async def test_http_discovery(
    session: Session, mcp_http_server: HttpMcpProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTBOUND_ALLOW_HOSTS", "127.0.0.1")  # the test server is on loopback
    spec = servers.McpServerIn(
        transport="http", url=mcp_http_server.url, headers={"Authorization": "Bearer ${MCP_TOKEN}"}
    )
    servers.create_server(session, "web", spec)
    await discover(session, "web")

    assert get_tool(session, "web__echo").parameters["required"] == ["text"]


async def test_unreachable_server_is_reported(session: Session) -> None:
    servers.create_server(session, "down", stdio_in(command="/nonexistent/server"))
    spec = servers.server_spec(servers.get_server(session, "down"))

    with pytest.raises(McpUnavailable, match="MCP server 'down'") as caught:
        await list_remote_tools(spec, ENV)
    assert "nonexistent" in str(caught.value)


async def test_the_apis_discovery_keeps_no_transaction_open_and_reports_a_failure(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        servers.create_server(session, "fake", stdio_in())
        servers.create_server(session, "down", stdio_in(command="/nonexistent/server"))

    found = await mcp.discover(session_factory, "fake", ENV)
    down = await mcp.discover(session_factory, "down", ENV)

    assert found.listed and "fake__add" in found.changes.created
    assert not down.listed and "nonexistent" in (down.error or "")
    with session_factory() as session:
        assert get_tool(session, "fake__add").kind == "mcp"
        assert servers.get_server(session, "down").discovery_error == down.error
        assert servers.server_tools(session, "down") == []


async def test_snapshot_carries_the_server_settings(basics: Session, tmp_path: Path) -> None:
    session = basics
    settings = stdio_settings()
    settings["env"] = {**settings["env"], "FAKE_MCP_TOKEN": "${MCP_TOKEN}"}
    servers.create_server(session, "fake", servers.McpServerIn.model_validate(settings))
    await discover(session, "fake")
    create_agent(session, "calc", AgentIn(provider="p", tools=["fake__add", "fake__env_token"]))
    session.commit()

    spec = snapshot_agent(session, "calc")
    session.close()

    add, token = spec.tools
    assert add.config["server_spec"]["env"]["FAKE_MCP_TOKEN"] == "${MCP_TOKEN}"  # no secret
    assert add.config["server_spec"]["command"] == settings["command"]
    pool = McpPool(ENV)
    ctx = ToolContext(workspace_dir=tmp_path, env=ENV, mcp=pool)  # no database
    try:
        assert await execute_tool(add, {"a": 20, "b": 22}, ctx) == "42"
        assert await execute_tool(token, {}, ctx) == "len=21 tail=89"
    finally:
        await pool.close()


def test_seed_discovers_servers_before_agents_use_their_tools(
    session_factory: sessionmaker[Session],
) -> None:
    data = {
        "providers": [{"name": "p", "kind": "scripted", "default_model": "m"}],
        "mcp_servers": [
            {"name": "fake", **stdio_settings()},
            {"name": "down", **stdio_settings(), "command": "/nonexistent/server"},
        ],
        "agents": [{"name": "adder", "provider": "p", "tools": ["fake__add"]}],
    }
    with session_factory.begin() as session:
        report = load_config(session, data, env=ENV)

    assert {"mcp_servers/fake", "mcp_servers/down", "tools/fake__add"} <= set(report.created)
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("mcp_servers/down: not discovered")
    with session_factory() as session:
        assert snapshot_agent(session, "adder").tools[0].config["tool"] == "add"
        assert "nonexistent" in (servers.get_server(session, "down").discovery_error or "")


def test_seed_reports_a_bad_server_by_path(session_factory: sessionmaker[Session]) -> None:
    data = {"mcp_servers": [{"name": "web", "transport": "http", "url": "gopher://x"}]}
    with pytest.raises(InvalidConfig) as caught, session_factory.begin() as session:
        load_config(session, data, env=ENV)
    assert caught.value.field == "mcp_servers[0].url"
