"""How to reach an MCP server, as stored: its connection settings (`${VAR}` references
unresolved) and the tools a discovery found.

A server's spec travels in each of its tools' snapshot (`config["server_spec"]`), so the worker
needs no database read per call. Connecting (resolving the references, the SDK) is the worker's
and the API's business: activities/tools/mcp_spec.py and mcp_client.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.kinds import MCP_TRANSPORTS, McpTransport

DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ServerSpec:
    """A server's connection settings as stored: `${VAR}` references unresolved."""

    name: str
    transport: McpTransport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> ServerSpec:
        """The spec a tool snapshot carries; ValueError if it is not one (a tool saved by hand
        whose run was started before its server existed)."""
        try:
            transport = str(data["transport"])
            if transport not in MCP_TRANSPORTS:
                raise ValueError(f"unknown transport {transport!r}")
            needed = "command" if transport == "stdio" else "url"
            if not data.get(needed):
                raise ValueError(f"no {needed} for transport {transport}")
            return cls(
                name=str(data.get("name", "")),
                transport=transport,
                command=None if data.get("command") is None else str(data["command"]),
                args=tuple(str(arg) for arg in data.get("args") or ()),
                env={str(k): str(v) for k, v in (data.get("env") or {}).items()},
                url=None if data.get("url") is None else str(data["url"]),
                headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
                timeout_s=float(data.get("timeout_s") or DEFAULT_TIMEOUT_S),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(str(err)) from None

    def to_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "transport": self.transport,
            "command": self.command,
            "args": list(self.args),
            "env": dict(self.env),
            "url": self.url,
            "headers": dict(self.headers),
            "timeout_s": self.timeout_s,
        }


@dataclass(frozen=True)
class RemoteTool:
    """A tool as an MCP server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]
