"""How to reach an MCP server, as stored (templates) and as used (resolved), without the SDK.

A server's spec travels in each of its tools' snapshot (`config["server_spec"]`), so the worker
needs no database read per call. It holds secrets only as `${VAR}` references in `env` and
`headers`; `resolve` substitutes them from the environment of the process that connects (the
worker for calls, the API for discovery). The resolved form never leaves the process: it is
only hashed into the key of the worker's session.

Kept free of the `mcp` SDK (a second of imports) so the config store and the CLI stay light.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from activities.tools.base import ToolError
from activities.tools.secrets import secret_values, substitute_env

TRANSPORTS = ("stdio", "http")
DEFAULT_TIMEOUT_S = 30.0


class McpUnavailable(Exception):
    """The MCP server cannot be reached or used right now (it does not start, the connection
    drops, a request times out). Not a ToolError: Temporal retries the call."""


@dataclass(frozen=True)
class ServerSpec:
    """A server's connection settings as stored: `${VAR}` references unresolved."""

    name: str
    transport: str  # "stdio" | "http"
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> ServerSpec:
        """The spec a tool snapshot carries; ToolError if it is not one (a tool saved by hand
        whose run was started before its server existed)."""
        try:
            transport = str(data["transport"])
            if transport not in TRANSPORTS:
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
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ToolError(f"the MCP server settings of this tool are incomplete: {err}") from None

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
class ResolvedServer:
    """A spec with its `${VAR}` references substituted. Holds secrets: never log or store it."""

    name: str
    transport: str
    command: str | None
    args: tuple[str, ...]
    env: Mapping[str, str]
    url: str | None
    headers: Mapping[str, str]
    timeout_s: float
    secrets: tuple[str, ...]  # the substituted values, for redacting error messages

    @property
    def key(self) -> str:
        """Identifies one session: equal settings (secrets included) share it."""
        settings = [
            self.transport,
            self.command,
            list(self.args),
            sorted(self.env.items()),
            self.url,
            sorted(self.headers.items()),
            self.timeout_s,
        ]
        return hashlib.sha256(json.dumps(settings).encode()).hexdigest()


def local_command(command: str | None) -> str | None:
    """`python` (or `python3`) runs the interpreter of the process that connects: a Python MCP
    server installed beside orch starts with the right packages, whatever PATH says."""
    return sys.executable if command in ("python", "python3") else command


def resolve(spec: ServerSpec, env: Mapping[str, str]) -> ResolvedServer:
    """Substitute `${VAR}` in the server's env and headers from `env`; ToolError naming the
    server and the missing variable."""
    where = f"MCP server {spec.name!r}"
    return ResolvedServer(
        name=spec.name,
        transport=spec.transport,
        command=local_command(spec.command),
        args=spec.args,
        env={k: substitute_env(v, env, f"{where} env {k}") for k, v in spec.env.items()},
        url=spec.url,
        headers={k: substitute_env(v, env, f"{where} header {k}") for k, v in spec.headers.items()},
        timeout_s=spec.timeout_s,
        secrets=secret_values({"env": dict(spec.env), "headers": dict(spec.headers)}, env),
    )


@dataclass(frozen=True)
class RemoteTool:
    """A tool as an MCP server lists it."""

    name: str
    description: str
    input_schema: dict[str, Any]
