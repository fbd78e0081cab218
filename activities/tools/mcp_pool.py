"""The worker's MCP client sessions (placeholder: the MCP tool kind lands with issue 5)."""

from __future__ import annotations

from collections.abc import Mapping


class McpPool:
    """Sessions to MCP servers, reused across calls. `env` resolves `${VAR}` in server config."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
