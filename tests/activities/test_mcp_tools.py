"""Kind `mcp`: calls through the worker's McpPool to a real MCP server (the SDK-written fake in
tests/fakes/mcp_server.py), run as a subprocess over stdio and over streamable HTTP."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import types
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.tools.base import ToolContext, ToolError
from activities.tools.mcp_client import render_result
from activities.tools.mcp_pool import McpPool
from activities.tools.mcp_spec import McpUnavailable
from activities.tools.mcp_tool import check_config
from activities.tools.registry import execute_tool
from activities.tools.secrets import redact, secret_values
from tests.fakes.mcp_server import HttpMcpProcess, stdio_settings
from workflows.types import ToolSpec

TOKEN = "tok-SECRET-0123456789"
ENV = {"MCP_TOKEN": TOKEN}
ADD_SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
    "required": ["a", "b"],
}


def stdio_spec(**env: str) -> dict[str, Any]:
    """A snapshot's `server_spec` for the fake over stdio (as config_store would write it)."""
    settings = stdio_settings()
    settings["env"] = {**settings["env"], **env}
    return {"name": "fake", "headers": {}, "url": None, **settings}


def http_spec(url: str, **headers: str) -> dict[str, Any]:
    return {"name": "web", "transport": "http", "url": url, "headers": headers, "timeout_s": 20.0}


def mcp_tool(tool: str, server_spec: dict[str, Any], parameters: dict[str, Any] | None = None):
    return ToolSpec(
        name=f"fake__{tool}",
        kind="mcp",
        parameters=parameters or {"type": "object"},
        config={"server": server_spec["name"], "tool": tool, "server_spec": server_spec},
    )


@pytest.fixture
async def pool() -> AsyncIterator[McpPool]:
    # The HTTP test server listens on loopback: allowed by name, as an operator would.
    pool = McpPool(ENV, frozenset({"127.0.0.1"}))
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def ctx(tmp_path: Path, pool: McpPool) -> ToolContext:
    return ToolContext(workspace_dir=tmp_path, env=ENV, mcp=pool)


async def _wait_disconnected(pool: McpPool, spec: dict[str, Any]) -> None:
    for _ in range(250):
        if not pool.is_connected(spec):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the pool did not notice that the session ended")


async def test_execute_tool_calls_the_server_over_stdio(ctx: ToolContext) -> None:
    spec = mcp_tool("add", stdio_spec(), ADD_SCHEMA)

    assert await execute_tool(spec, {"a": 2, "b": 40}, ctx) == "42"


async def test_arguments_are_checked_against_the_server_schema_first(ctx: ToolContext) -> None:
    spec = mcp_tool("add", stdio_spec(), ADD_SCHEMA)

    with pytest.raises(ToolError, match="'b' is a required property"):
        await execute_tool(spec, {"a": 2}, ctx)
    assert ctx.mcp is not None and not ctx.mcp.is_connected(spec.config["server_spec"])


async def test_one_session_serves_every_call(ctx: ToolContext) -> None:
    pid = mcp_tool("pid", stdio_spec())
    echo = mcp_tool("echo", stdio_spec())

    first = await execute_tool(pid, {}, ctx)
    echoes = await asyncio.gather(*(execute_tool(echo, {"text": f"t{i}"}, ctx) for i in range(10)))
    second = await execute_tool(pid, {}, ctx)

    assert first == second
    assert int(first) != os.getpid()
    assert echoes == [f"t{i}" for i in range(10)]


async def test_a_killed_server_is_restarted_by_the_next_call(ctx: ToolContext) -> None:
    pid = mcp_tool("pid", stdio_spec())
    first = int(await execute_tool(pid, {}, ctx))

    os.kill(first, signal.SIGKILL)
    assert ctx.mcp is not None
    await _wait_disconnected(ctx.mcp, pid.config["server_spec"])
    second = int(await execute_tool(pid, {}, ctx))

    assert second != first
    assert second == int(await execute_tool(pid, {}, ctx))


async def test_a_server_dying_during_a_call_is_retryable(ctx: ToolContext) -> None:
    pid = mcp_tool("pid", stdio_spec())
    slow = mcp_tool("slow", stdio_spec())
    server_pid = int(await execute_tool(pid, {}, ctx))

    call = asyncio.create_task(execute_tool(slow, {"seconds": 30}, ctx))
    await asyncio.sleep(0.5)
    os.kill(server_pid, signal.SIGKILL)

    with pytest.raises(McpUnavailable, match="connection lost") as caught:
        await call
    assert not isinstance(caught.value, ToolError)  # Temporal retries it
    assert int(await execute_tool(pid, {}, ctx)) != server_pid


async def test_a_tool_error_is_shown_to_the_model(ctx: ToolContext) -> None:
    spec = mcp_tool("fail", stdio_spec())

    with pytest.raises(ToolError, match="failed on purpose: disk full"):
        await execute_tool(spec, {"reason": "disk full"}, ctx)


async def test_an_unknown_remote_tool_is_a_tool_error(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="Unknown tool: gone"):
        await execute_tool(mcp_tool("gone", stdio_spec()), {}, ctx)


async def test_a_slow_call_times_out_retryably(tmp_path: Path) -> None:
    pool = McpPool({})
    # The timeout covers every request, the new session's `initialize` included: a Python
    # server starting on a busy 2-core machine needs more than a second for that.
    spec = {**stdio_spec(), "timeout_s": 3.0}
    try:
        with pytest.raises(McpUnavailable, match="timed out"):
            await pool.call_tool(spec, "slow", {"seconds": 30})
        assert await pool.call_tool(spec, "echo", {"text": "still up"}) == "still up"
    finally:
        await pool.close()


async def test_env_var_reaches_the_server_and_is_redactable(ctx: ToolContext) -> None:
    spec = mcp_tool("env_token", stdio_spec(FAKE_MCP_TOKEN="${MCP_TOKEN}"))

    assert await execute_tool(spec, {}, ctx) == f"len={len(TOKEN)} tail={TOKEN[-2:]}"
    # The tool activity redacts what the config references, server_spec included.
    assert redact(f"echo {TOKEN}", secret_values(spec.config, ENV)) == "echo [redacted]"


async def test_a_missing_env_var_is_a_tool_error_naming_it(tmp_path: Path) -> None:
    ctx = ToolContext(workspace_dir=tmp_path, env={}, mcp=McpPool({}))
    spec = mcp_tool("env_token", stdio_spec(FAKE_MCP_TOKEN="${MCP_TOKEN}"))

    with pytest.raises(ToolError, match=r"env FAKE_MCP_TOKEN references \$\{MCP_TOKEN\}"):
        await execute_tool(spec, {}, ctx)


async def test_a_command_that_does_not_exist_is_retryable(pool: McpPool) -> None:
    spec = {**stdio_spec(), "command": "/nonexistent/mcp-server"}

    with pytest.raises(McpUnavailable, match="cannot connect to MCP server 'fake'"):
        await pool.call_tool(spec, "pid", {})


async def test_streamable_http_call_with_header_from_env(
    ctx: ToolContext, mcp_http_server: HttpMcpProcess
) -> None:
    spec = http_spec(mcp_http_server.url, Authorization="Bearer ${MCP_TOKEN}")
    bearer = f"Bearer {TOKEN}"

    assert await execute_tool(mcp_tool("add", spec, ADD_SCHEMA), {"a": 1, "b": 2}, ctx) == "3"
    result = await execute_tool(mcp_tool("auth_header", spec), {}, ctx)
    assert result == f"len={len(bearer)} tail={bearer[-2:]}"
    pid = mcp_tool("pid", spec)
    assert await execute_tool(pid, {}, ctx) == await execute_tool(pid, {}, ctx)


async def test_streamable_http_server_restart_is_recovered(ctx: ToolContext) -> None:
    server = HttpMcpProcess()
    server.start()
    try:
        pid = mcp_tool("pid", http_spec(server.url))
        first = await execute_tool(pid, {}, ctx)
        server.stop()
        server.start()
        # The restarted server does not know our session: that call is retryable, the next works.
        with pytest.raises(McpUnavailable):
            await execute_tool(pid, {}, ctx)
        assert await execute_tool(pid, {}, ctx) != first
    finally:
        server.stop()


async def test_closing_the_pool_stops_stdio_servers() -> None:
    pool = McpPool({})
    spec = stdio_spec()
    async with pool.running():
        server_pid = int(await pool.call_tool(spec, "pid", {}))
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)
    with pytest.raises(McpUnavailable, match="closed"):
        await pool.call_tool(spec, "pid", {})


def test_result_rendering() -> None:
    image = types.ImageContent(data=base64.b64encode(b"x" * 300).decode(), mime_type="image/png")
    link = types.ResourceLink(uri="file:///r.txt", name="r.txt")
    text_resource = types.EmbeddedResource(
        resource=types.TextResourceContents(uri="file:///a", text="inline")
    )
    blob = types.EmbeddedResource(
        resource=types.BlobResourceContents(uri="file:///b", blob="AAAA", mime_type="image/gif")
    )
    result = types.CallToolResult(
        content=[types.TextContent(text="hello"), image, link, text_resource, blob]
    )
    structured = types.CallToolResult(content=[], structured_content={"a": [1, 2], "b": "é"})

    assert render_result(result).splitlines() == [
        "hello",
        "[image: image/png, about 300 bytes, not shown]",
        "[resource link: file:///r.txt (r.txt)]",
        "inline",
        "[resource: file:///b, image/gif, not shown]",
    ]
    assert render_result(structured) == '{"a":[1,2],"b":"é"}'


def test_config_check() -> None:
    check_config({"server": "fake", "tool": "add"})
    check_config({"server": "fake", "tool": "add", "stale": True})
    for config, field in (
        ({"tool": "add"}, "server"),
        ({"server": "fake", "tool": ""}, "tool"),
        ({"server": "fake", "tool": "add", "stale": "yes"}, "stale"),
        ({"server": "fake", "tool": "add", "server_spec": {}}, "server_spec"),
    ):
        with pytest.raises(Exception) as caught:
            check_config(config)
        assert getattr(caught.value, "field", None) == field


async def test_a_tool_without_server_settings_is_a_tool_error(ctx: ToolContext) -> None:
    spec = ToolSpec(name="fake__add", kind="mcp", config={"server": "fake", "tool": "add"})

    with pytest.raises(ToolError, match="not registered"):
        await execute_tool(spec, {}, ctx)


@activity.defn(name="noop")
async def _noop() -> None:
    """A Temporal worker needs something to run."""


@pytest.mark.parametrize("style", ["async with", "run and shutdown"])
async def test_the_worker_plugin_closes_the_pool_after_the_worker_stops(
    temporal_client: Client, style: str
) -> None:
    pool = McpPool({})
    worker = Worker(
        temporal_client,
        task_queue=f"tq-{uuid.uuid4().hex}",
        activities=[_noop],
        plugins=[pool.worker_plugin()],
    )
    if style == "async with":
        async with worker:
            server_pid = int(await pool.call_tool(stdio_spec(), "pid", {}))
            os.kill(server_pid, 0)  # running while the worker runs
    else:  # as orch/serve.py runs it
        task = asyncio.create_task(worker.run())
        server_pid = int(await pool.call_tool(stdio_spec(), "pid", {}))
        await worker.shutdown()
        await task

    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)
    with pytest.raises(McpUnavailable, match="closed"):
        await pool.call_tool(stdio_spec(), "pid", {})
