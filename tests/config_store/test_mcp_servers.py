"""MCP servers in the config store: registration checks, discovery into `tools`, deletion,
snapshots that carry the server's settings, and the seed file's `mcp_servers` section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from activities.tools.base import ToolContext
from activities.tools.mcp_client import list_remote_tools
from activities.tools.mcp_pool import McpPool
from activities.tools.mcp_spec import McpUnavailable
from activities.tools.registry import execute_tool
from config_store import mcp_servers as servers
from config_store.agents import create_agent, snapshot_agent
from config_store.mcp_discovery import DiscoveryChanges, local_tool_names, record_discovery
from config_store.mcp_spec import RemoteTool
from config_store.specs import AgentIn, ToolIn
from config_store.tools import create_tool, find_tool, get_tool, update_tool
from core.errors import Conflict, InvalidConfig
from services.seed import load_config
from tests.fakes.mcp_server import HttpMcpProcess, stdio_settings

ENV = {"MCP_TOKEN": "tok-SECRET-0123456789"}
SCHEMA = {"type": "object", "properties": {"x": {"type": "string"}}}


def stdio_in(**changes: Any) -> servers.McpServerIn:
    return servers.McpServerIn.model_validate({**stdio_settings(), **changes})


async def discover(session: Session, name: str) -> DiscoveryChanges:
    spec = servers.server_spec(servers.get_server(session, name))
    return record_discovery(session, name, spec, await list_remote_tools(spec, ENV))


def remote(*names: str) -> list[RemoteTool]:
    return [RemoteTool(name, f"the {name} tool", SCHEMA) for name in names]


@pytest.mark.parametrize(
    ("name", "settings", "field"),
    [
        ("has.dot", {}, "name"),
        ("x" * 33, {}, "name"),
        ("Upper", {}, "name"),
        ("ok", {"command": " "}, "command"),
        ("ok", {"args": ["a\x00b"]}, "args[0]"),
        ("ok", {"env": {"1BAD": "v"}}, "env.1BAD"),
        ("ok", {"env": {"TOKEN": "${UNCLOSED"}}, "env.TOKEN"),
        ("ok", {"env": {"TOKEN": "${not a name}"}}, "env.TOKEN"),
        ("ok", {"url": "http://x"}, "url"),
        ("ok", {"timeout_s": 0}, "timeout_s"),
        ("ok", {"timeout_s": 4000}, "timeout_s"),
        ("ok", {"transport": "http", "command": None, "args": [], "env": {}}, "url"),
        ("ok", {"transport": "http", "url": "ftp://h/mcp", "env": {}, "args": []}, "url"),
        ("ok", {"transport": "http", "url": "http:///mcp", "env": {}, "args": []}, "url"),
        ("ok", {"transport": "http", "url": "https://u:p@h/mcp", "env": {}, "args": []}, "url"),
        ("ok", {"transport": "http", "url": "https://h/mcp", "env": {}}, "command"),
    ],
)
def test_bad_registrations_name_the_field(
    session: Session, name: str, settings: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidConfig) as caught:
        servers.create_server(session, name, stdio_in(**settings))
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"Authorization": "Bearer sk-literal"}, "headers.Authorization"),
        ({"bad header": "v"}, "headers.bad header"),
        ({"X-Trace": "a\r\nb"}, "headers.X-Trace"),
    ],
)
def test_http_headers_are_checked(session: Session, headers: dict[str, str], field: str) -> None:
    spec = servers.McpServerIn(transport="http", url="https://mcp.example.com/mcp", headers=headers)
    with pytest.raises(InvalidConfig) as caught:
        servers.create_server(session, "web", spec)
    assert caught.value.field == field


def test_server_round_trip(session: Session) -> None:
    servers.create_server(session, "fake", stdio_in())
    session.commit()
    with pytest.raises(Conflict):
        servers.create_server(session, "fake", stdio_in())
    session.rollback()
    assert servers.upsert_server(session, "fake", stdio_in()) == "unchanged"
    http = servers.McpServerIn(
        transport="http", url="https://mcp.example.com/mcp", headers={"Authorization": "${T}"}
    )
    assert servers.upsert_server(session, "fake", http) == "updated"
    row = servers.get_server(session, "fake")
    assert (row.transport, row.command, row.args, row.env) == ("http", None, [], {})
    assert [r.name for r in servers.list_servers(session)] == ["fake"]


def test_local_tool_names() -> None:
    long = "a" * 80
    names = local_tool_names("gh", ["get_issue", "Search.Code", "x y", "x_y", long])

    assert names["get_issue"] == "gh__get_issue"
    assert names["Search.Code"] == "gh__search_code"
    assert names["x y"] != names["x_y"]  # both would be gh__x_y: each gets a hash
    assert names["x y"].startswith("gh__x_y_") and names["x_y"].startswith("gh__x_y_")
    assert len(names[long]) == 64
    assert len(set(names.values())) == 5


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


async def test_http_discovery(session: Session, mcp_http_server: HttpMcpProcess) -> None:
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


def test_a_tool_name_taken_by_another_kind_is_skipped(session: Session) -> None:
    create_tool(session, "fake__calc", ToolIn(kind="calculator"))
    servers.create_server(session, "fake", stdio_in())
    spec = servers.server_spec(servers.get_server(session, "fake"))

    changes = record_discovery(session, "fake", spec, remote("calc", "echo"))

    assert changes.created == ["fake__echo"]
    assert changes.skipped == [
        "calc: 'fake__calc' is taken by a tool of kind calculator; rename that tool or this server"
    ]
    assert get_tool(session, "fake__calc").kind == "calculator"
    assert "fake__calc" in (servers.get_server(session, "fake").discovery_error or "")


def test_an_invalid_schema_is_skipped(session: Session) -> None:
    servers.create_server(session, "fake", stdio_in())
    spec = servers.server_spec(servers.get_server(session, "fake"))
    bad = RemoteTool("bad", "", {"type": "object", "properties": {"x": {"type": 5}}})

    changes = record_discovery(session, "fake", spec, [bad, *remote("good")])

    assert changes.created == ["fake__good"]
    assert changes.skipped[0].startswith("bad: parameters: not a valid JSON Schema")


def test_vanished_tools_are_removed_unless_used(basics: Session) -> None:
    session = basics
    servers.create_server(session, "fake", stdio_in())
    spec = servers.server_spec(servers.get_server(session, "fake"))
    record_discovery(session, "fake", spec, remote("keep", "used", "dropped"))
    update_tool(
        session,
        "fake__used",
        ToolIn(kind="mcp", config={"server": "fake", "tool": "used"}, timeout_s=99),
    )
    create_agent(session, "a", AgentIn(provider="p", tools=["fake__used"]))

    changes = record_discovery(session, "fake", spec, remote("keep"))

    assert (changes.removed, changes.stale, changes.unchanged) == (
        ["fake__dropped"],
        ["fake__used"],
        ["fake__keep"],
    )
    assert find_tool(session, "fake__dropped") is None
    assert get_tool(session, "fake__used").config["stale"] is True
    back = record_discovery(session, "fake", spec, remote("keep", "used"))
    assert back.updated == ["fake__used"]
    used = get_tool(session, "fake__used")
    assert "stale" not in used.config
    assert used.timeout_s == 99  # what an operator tuned is kept


def test_a_failed_discovery_changes_no_tool(session: Session) -> None:
    servers.create_server(session, "fake", stdio_in())
    spec = servers.server_spec(servers.get_server(session, "fake"))
    record_discovery(session, "fake", spec, remote("echo"))
    discovered_at = servers.get_server(session, "fake").discovered_at

    record_discovery(session, "fake", spec, None, "MCP server 'fake': down")

    row = servers.get_server(session, "fake")
    assert (row.discovery_error, row.discovered_at) == ("MCP server 'fake': down", discovered_at)
    assert find_tool(session, "fake__echo") is not None


def test_discovery_with_outdated_settings_is_refused(session: Session) -> None:
    servers.create_server(session, "fake", stdio_in())
    spec = servers.server_spec(servers.get_server(session, "fake"))
    servers.update_server(session, "fake", stdio_in(timeout_s=5))

    with pytest.raises(Conflict, match="changed while it was discovered"):
        record_discovery(session, "fake", spec, remote("echo"))


def test_delete_server(basics: Session) -> None:
    session = basics
    servers.create_server(session, "fake", stdio_in())
    spec = servers.server_spec(servers.get_server(session, "fake"))
    record_discovery(session, "fake", spec, remote("a", "b"))
    create_agent(session, "user", AgentIn(provider="p", tools=["fake__b"]))

    with pytest.raises(Conflict, match="used by agents user"):
        servers.delete_server(session, "fake")
    assert find_tool(session, "fake__b") is not None

    servers.create_server(session, "solo", stdio_in())
    spec = servers.server_spec(servers.get_server(session, "solo"))
    record_discovery(session, "solo", spec, remote("a"))
    servers.delete_server(session, "solo")
    assert find_tool(session, "solo__a") is None and servers.find_server(session, "solo") is None


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


def test_snapshot_of_a_tool_whose_server_is_gone(basics: Session) -> None:
    session = basics
    create_tool(session, "ghost__x", ToolIn(kind="mcp", config={"server": "ghost", "tool": "x"}))
    create_agent(session, "a", AgentIn(provider="p", tools=["calc", "ghost__x"]))

    with pytest.raises(InvalidConfig) as caught:
        snapshot_agent(session, "a")
    assert caught.value.field == "tools[1]"
    assert "MCP server 'ghost', which no longer exists" in caught.value.problem


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


def test_a_tool_saved_by_hand_under_another_name_is_kept(basics: Session) -> None:
    session = basics
    servers.create_server(session, "fake", stdio_in())
    spec = servers.server_spec(servers.get_server(session, "fake"))
    config = {"server": "fake", "tool": "echo"}
    create_tool(session, "shout", ToolIn(kind="mcp", description="Echo, loudly.", config=config))
    create_agent(session, "a", AgentIn(provider="p", tools=["shout"]))

    record_discovery(session, "fake", spec, remote("echo"))
    assert get_tool(session, "shout").description == "Echo, loudly."
    assert record_discovery(session, "fake", spec, remote()).stale == ["shout"]
    record_discovery(session, "fake", spec, remote("echo"))
    assert get_tool(session, "shout").config == config
