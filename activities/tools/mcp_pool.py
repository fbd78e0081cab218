"""The worker's MCP sessions: one per server, kept open and shared by every call.

Spawning a server process (or opening an HTTP session) per call would cost hundreds of
milliseconds and lose whatever state the server keeps, so each server gets one long-lived task
that owns the SDK's context managers (anyio scopes must be left by the task that entered them)
and holds the session open until the pool closes. Calls from any activity go through that
session concurrently.

When the session ends (the process exited, the connection dropped) the connection is marked
dead and the next call opens a new one: each call connects at most once. A failure to connect,
a dropped connection or a timed-out request raises McpUnavailable, which Temporal retries; a
tool that answers with `isError` raises ToolError, which the model sees.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from mcp import ClientSession, MCPError
from mcp.types import CONNECTION_CLOSED, INTERNAL_ERROR, INVALID_REQUEST, REQUEST_TIMEOUT

from activities.tools.base import ToolError
from activities.tools.mcp_client import describe_error, open_session, render_result
from activities.tools.mcp_spec import McpUnavailable, ResolvedServer, resolve, server_of
from activities.worker_owned import ClosedWithWorker

log = logging.getLogger(__name__)

# Errors that say nothing about the call itself: worth another attempt.
_TRANSIENT = (CONNECTION_CLOSED, REQUEST_TIMEOUT, INTERNAL_ERROR)


class _Connection:
    """One session and the task that owns it."""

    def __init__(self, server: ResolvedServer, allow_hosts: frozenset[str]) -> None:
        self.server = server
        self.allow_hosts = allow_hosts
        self.session: ClientSession | None = None
        self.error: str | None = None
        self.dead = False  # no new call may use it
        self._ready = asyncio.Event()
        self._end = asyncio.Event()
        self.task = asyncio.create_task(self._own(), name=f"mcp-session-{server.name}")

    def end(self) -> None:
        """Stop taking calls and close the session (in its task)."""
        self.dead = True
        self._end.set()

    async def ready(self) -> ClientSession:
        await self._ready.wait()
        if self.session is None:
            problem = self.error or "the session ended"
            raise McpUnavailable(f"cannot connect to MCP server {self.server.name!r}: {problem}")
        return self.session

    async def _own(self) -> None:
        try:
            async with open_session(
                self.server, on_end=self.end, allow_hosts=self.allow_hosts
            ) as session:
                self.session = session
                self._ready.set()
                await self._end.wait()
        except Exception as err:
            self.error = describe_error(err, self.server.secrets)
            log.warning("MCP server %r session ended: %s", self.server.name, self.error)
        finally:
            self.dead = True
            self.session = None
            self._ready.set()


class McpPool(ClosedWithWorker):
    """Sessions to MCP servers, reused across calls. `env` resolves `${VAR}` in server specs;
    `allow_hosts` (OUTBOUND_ALLOW_HOSTS) names the HTTP servers' hosts that may be non-public."""

    plugin_name = "orch.mcp_pool"

    def __init__(self, env: Mapping[str, str], allow_hosts: frozenset[str] = frozenset()) -> None:
        self._env = env
        self._allow_hosts = allow_hosts
        self._connections: dict[str, _Connection] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # every owner task, until it ends
        self._closed = False

    async def call_tool(
        self, server_spec: Mapping[str, Any], tool: str, arguments: Mapping[str, Any]
    ) -> str:
        """Call `tool` on the server `server_spec` describes (a tool snapshot's
        `config["server_spec"]`) and return its result as text.

        ToolError: the tool answered with an error, or rejected the call (unknown tool, invalid
        arguments). McpUnavailable: the server could not be used; another attempt may work.
        """
        server = resolve(server_of(server_spec), self._env)
        connection = self._connection(server)
        session = await connection.ready()
        try:
            result = await session.call_tool(
                tool, dict(arguments), read_timeout_seconds=server.timeout_s
            )
        except MCPError as err:
            raise self._mcp_error(connection, tool, err) from None
        if result.is_error:
            raise ToolError(render_result(result) or f"MCP tool {tool!r} failed")
        return render_result(result)

    def _mcp_error(self, connection: _Connection, tool: str, err: MCPError) -> Exception:
        server = connection.server
        problem = describe_error(err, server.secrets)
        lost = err.code == CONNECTION_CLOSED or (
            # A streamable HTTP server that forgot our session (it restarted) answers 404,
            # which the SDK reports as INVALID_REQUEST: a new session is the remedy.
            err.code == INVALID_REQUEST and server.transport == "http"
        )
        if lost:
            connection.end()
            return McpUnavailable(f"MCP server {server.name!r} connection lost: {problem}")
        if err.code in _TRANSIENT:
            return McpUnavailable(f"MCP server {server.name!r}, tool {tool!r}: {problem}")
        return ToolError(f"MCP server {server.name!r} refused tool {tool!r}: {problem}")

    def _connection(self, server: ResolvedServer) -> _Connection:
        """The live connection for `server`, or a new one (no await: no two get created)."""
        if self._closed:
            raise McpUnavailable("the worker's MCP sessions are closed (the worker is stopping)")
        connection = self._connections.get(server.key)
        if connection is None or connection.dead:
            connection = _Connection(server, self._allow_hosts)
            self._connections[server.key] = connection
            self._tasks.add(connection.task)
            connection.task.add_done_callback(self._tasks.discard)
        return connection

    def is_connected(self, server_spec: Mapping[str, Any]) -> bool:
        """Whether a live session to this server is open (for tests and diagnostics)."""
        key = resolve(server_of(server_spec), self._env).key
        connection = self._connections.get(key)
        return connection is not None and not connection.dead and connection.session is not None

    async def close(self) -> None:
        """End every session (stdio servers are stopped) and wait for them to close."""
        self._closed = True
        for connection in self._connections.values():
            connection.end()
        self._connections.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
