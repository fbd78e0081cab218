"""How to reach an MCP server as used (resolved), without the SDK; the stored form is
config_store/mcp_spec.py.

A server's spec holds secrets only as `${VAR}` references in `env` and
`headers`; `resolve` substitutes them from the environment of the process that connects (the
worker for calls, the API for discovery). The resolved form never leaves the process: it is
only hashed into the key of the worker's session.

Kept free of the `mcp` SDK (a second of imports).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from activities.tools.base import ToolError
from activities.tools.secrets import secret_values, substitute_env
from config_store.mcp_spec import ServerSpec


class McpUnavailable(Exception):
    """The MCP server cannot be reached or used right now (it does not start, the connection
    drops, a request times out). Not a ToolError: Temporal retries the call."""


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


def server_of(config: Mapping[str, Any]) -> ServerSpec:
    """The server spec a tool snapshot carries; ToolError if it is not one."""
    try:
        return ServerSpec.from_config(config)
    except ValueError as err:
        raise ToolError(f"the MCP server settings of this tool are incomplete: {err}") from None


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
