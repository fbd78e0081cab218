"""MCP servers in the config store: registration checks, discovered tools recorded into
`tools`, deletion, and snapshots of tools whose server is gone. Discovery over the wire and the
seed file's `mcp_servers` section are tests/services/test_mcp.py's."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from config_store import mcp_servers as servers
from config_store.agents import create_agent, snapshot_agent
from config_store.mcp_discovery import local_tool_names, record_discovery
from config_store.mcp_spec import RemoteTool
from config_store.specs import AgentIn, ToolIn
from config_store.tools import create_tool, find_tool, get_tool, update_tool
from core.errors import Conflict, InvalidConfig
from tests.support.mcp import stdio_in

SCHEMA = {"type": "object", "properties": {"x": {"type": "string"}}}


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


def test_snapshot_of_a_tool_whose_server_is_gone(basics: Session) -> None:
    session = basics
    create_tool(session, "ghost__x", ToolIn(kind="mcp", config={"server": "ghost", "tool": "x"}))
    create_agent(session, "a", AgentIn(provider="p", tools=["calc", "ghost__x"]))

    with pytest.raises(InvalidConfig) as caught:
        snapshot_agent(session, "a")
    assert caught.value.field == "tools[1]"
    assert "MCP server 'ghost', which no longer exists" in caught.value.problem


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
