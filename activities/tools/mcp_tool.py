"""Kind `mcp`: a tool of a registered MCP server, called through the worker's session to it.

Its row is written by discovery (config_store/mcp_servers.py): named `<server>__<tool>`, with
the server's description and input schema, and `config = {"server", "tool"}`. The run's
snapshot adds `config["server_spec"]` (how to reach the server, secrets as `${VAR}` only), so a
call reads nothing from the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from workflows import tool_parameters

CONFIG_KEYS = ("server", "tool", "stale")


def check_config(config: Mapping[str, Any]) -> None:
    for key in config:
        if key not in CONFIG_KEYS:
            raise ToolConfigError(key, f"unknown setting; expected {', '.join(CONFIG_KEYS)}")
    for key in ("server", "tool"):
        if not isinstance(config.get(key), str) or not config[key]:
            raise ToolConfigError(key, "required: a non-empty string")
    if not isinstance(config.get("stale", False), bool):
        raise ToolConfigError("stale", "must be true or false")


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    if ctx.mcp is None:
        raise ToolError("this worker has no MCP client sessions")
    server_spec = config.get("server_spec")
    if not isinstance(server_spec, Mapping):
        raise ToolError(f"MCP server {config.get('server')!r} is not registered")
    return await ctx.mcp.call_tool(server_spec, str(config.get("tool", "")), arguments)


KIND = ToolImplementation(
    kind="mcp",
    run=run,
    description="A tool of an MCP server.",
    parameters=tool_parameters.MCP,
    check_config=check_config,
)
