"""MCP servers the worker may connect to: registration and its checks.

A server is a stdio command (run as a subprocess of the worker) or a streamable HTTP URL. Its
tools become rows of `tools` of kind `mcp` when it is discovered (config_store/mcp_discovery.py).
Secrets stay in the environment: `env` and `headers` values reference them as `${VAR}`, and a
credential header (Authorization, ...) must take its value from one.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from config_store.mcp_spec import ServerSpec
from config_store.models import McpServer, Tool
from config_store.rows import NamedResource, copy_fields, from_row
from config_store.tools import agents_using_tool, check_tool_name
from config_store.validation import (
    ENV_NAME_RE,
    ENV_REF_RE,
    check_choice,
    check_env_template,
    check_header_name,
    check_no_controls,
    check_range,
)
from core.errors import Conflict, InvalidConfig
from workflows.kinds import MCP_TRANSPORTS, McpTransport, ToolKind
from workflows.types import ToolSpec

MCP_KIND: ToolKind = "mcp"
# A tool is named `<server>__<tool>` within the 64 characters model providers accept.
MAX_SERVER_NAME = 32
MAX_TIMEOUT_S = 3600.0

# Headers that carry a credential: their value must come from the environment.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"}
)


class McpServerIn(BaseModel):
    """A server's definition (everything but its name), shared by the API and the seed file."""

    model_config = ConfigDict(extra="forbid")

    transport: McpTransport
    command: str | None = Field(default=None, description="stdio: the program to run.")
    args: list[str] = Field(default_factory=list, description="stdio: its arguments.")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="stdio: extra environment of the server process (PATH, HOME... are "
        "inherited); a value may reference the worker's env as ${VAR}.",
    )
    url: str | None = Field(default=None, description="http: the streamable HTTP endpoint.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="http: request headers; a value may reference env vars as ${VAR}.",
    )
    timeout_s: float = Field(
        default=30.0, description="Timeout of one request to the server (0.1-3600 s)."
    )


def check_server_name(name: str) -> None:
    check_tool_name(name)
    if len(name) > MAX_SERVER_NAME:
        raise InvalidConfig(
            "name", f"at most {MAX_SERVER_NAME} characters: its tools are named <server>__<tool>"
        )


def _check_stdio(spec: McpServerIn) -> None:
    if not spec.command or not spec.command.strip():
        raise InvalidConfig("command", "required with transport stdio")
    check_no_controls(spec.command, "command")
    for i, arg in enumerate(spec.args):
        if "\x00" in arg:
            raise InvalidConfig(f"args[{i}]", "must not contain a NUL character")
    for key, value in spec.env.items():
        if not ENV_NAME_RE.fullmatch(key):
            raise InvalidConfig(f"env.{key}", f"{key!r} is not a valid environment variable name")
        if "\x00" in value:
            raise InvalidConfig(f"env.{key}", "must not contain a NUL character")
        check_env_template(value, f"env.{key}")
    if spec.url:
        raise InvalidConfig("url", "only used with transport http")
    if spec.headers:
        raise InvalidConfig("headers", "only used with transport http")


def _check_http(spec: McpServerIn) -> None:
    if not spec.url:
        raise InvalidConfig("url", "required with transport http")
    parts = urlsplit(spec.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidConfig("url", f"{spec.url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise InvalidConfig("url", "must not carry credentials: put them in a header as ${VAR}")
    for name, value in spec.headers.items():
        field = f"headers.{name}"
        check_header_name(name, field)
        check_no_controls(value, field)
        check_env_template(value, field)
        if name.lower() in _SECRET_HEADERS and not ENV_REF_RE.search(value):
            raise InvalidConfig(
                field, "a credential is not stored in the config: reference it as ${VAR}"
            )
    for field, present in (
        ("command", bool(spec.command)),
        ("args", bool(spec.args)),
        ("env", bool(spec.env)),
    ):
        if present:
            raise InvalidConfig(field, "only used with transport stdio")


def _validate(spec: McpServerIn) -> None:
    check_choice(spec.transport, MCP_TRANSPORTS, "transport")
    check_range(spec.timeout_s, "timeout_s", 0.1, MAX_TIMEOUT_S)
    if spec.transport == "stdio":
        _check_stdio(spec)
    else:
        _check_http(spec)


def _apply(row: McpServer, spec: McpServerIn) -> bool:
    return copy_fields(row, spec.model_dump())


_SERVERS: NamedResource[McpServer, McpServerIn] = NamedResource(
    lambda name: McpServer(name=name),
    McpServer.name,
    "MCP server",
    "an MCP server",
    check_name=check_server_name,
    validate=_validate,
    apply=_apply,
)
find_server = _SERVERS.find
get_server = _SERVERS.get
list_servers = _SERVERS.list
create_server = _SERVERS.create
update_server = _SERVERS.update
upsert_server = _SERVERS.upsert


def server_tools(session: Session, name: str) -> list[Tool]:
    """The tools of kind `mcp` that call this server, by name."""
    rows = session.scalars(select(Tool).where(Tool.kind == MCP_KIND).order_by(Tool.name))
    return [row for row in rows if row.config.get("server") == name]


def delete_server(session: Session, name: str) -> None:
    """Delete a server and its tools; Conflict if an agent's current version uses one."""
    row = get_server(session, name)
    tools = server_tools(session, name)
    users = sorted({agent for tool in tools for agent in agents_using_tool(session, tool.name)})
    if users:
        raise Conflict(
            f"MCP server {name!r} has tools used by agents {', '.join(users)}; it cannot be deleted"
        )
    for tool in tools:
        session.delete(tool)
    session.delete(row)
    session.flush()


def server_spec(row: McpServer) -> ServerSpec:
    """The connection settings as stored (`${VAR}` references unresolved)."""
    return from_row(
        ServerSpec,
        row,
        args=tuple(row.args or ()),
        env=dict(row.env or {}),
        headers=dict(row.headers or {}),
    )


def with_server_spec(session: Session, spec: ToolSpec, field: str) -> ToolSpec:
    """A snapshot of an `mcp` tool carries its server's settings, so a call reads no database."""
    name = str(spec.config.get("server", ""))
    row = find_server(session, name)
    if row is None:
        raise InvalidConfig(
            field, f"tool {spec.name!r} belongs to MCP server {name!r}, which no longer exists"
        )
    return replace(spec, config={**spec.config, "server_spec": server_spec(row).to_config()})
