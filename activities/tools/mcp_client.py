"""The `mcp` SDK, used the one way this project needs: open a session to a server (a stdio
subprocess or a streamable HTTP endpoint), list its tools, call one, render the result as text.

The API calls `list_remote_tools` to discover a server's tools (a control-plane action, like
/readyz touching Temporal); the worker's `McpPool` keeps sessions open with `open_session`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any, Protocol, Self

import anyio
import httpx2
from mcp import ClientSession, MCPError, StdioServerParameters, stdio_client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage

from activities.tools.addresses import BlockedDestination, literal_address, normal_host
from activities.tools.base import Resolver, ToolError
from activities.tools.mcp_spec import McpUnavailable, ResolvedServer, resolve
from activities.tools.net import checked_destination, resolve_host
from activities.tools.secrets import redact
from config_store.mcp_spec import RemoteTool, ServerSpec

CLIENT_INFO = types.Implementation(name="orch", version="0.1.0")
MAX_TOOL_PAGES = 50  # a server that keeps handing out cursors is not listed forever
MAX_ERROR_CHARS = 500
# An HTTP read may wait this long: the server's event stream stays open between messages (the
# SDK's own default). Each request is bounded by the server's `timeout_s` anyway.
SSE_READ_TIMEOUT_S = 300.0

Incoming = SessionMessage | Exception


class GuardedTransport(httpx2.AsyncBaseTransport):
    """The outbound guard (activities/tools/net.py) for the MCP SDK's HTTP client: every
    request's host is resolved and checked before anything is sent (loopback, private,
    link-local and metadata addresses refused unless OUTBOUND_ALLOW_HOSTS names the host), and
    the connection goes to the checked address: the name stays in the Host header and, for
    https, in the TLS server name."""

    def __init__(self, allow_hosts: frozenset[str], resolver: Resolver | None = None) -> None:
        self._allow_hosts = allow_hosts
        self._resolver = resolver
        # trust_env=False: a proxy from the environment would undo the address check.
        self._inner = httpx2.AsyncHTTPTransport(trust_env=False)
        self.error_status: int | None = None  # the last 4xx/5xx answer, for error messages

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise BlockedDestination(f"refused: {url}: only http and https URLs are allowed")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await checked_destination(
            url.raw_host.decode("ascii"),
            port,
            self._allow_hosts,
            lambda host, port: resolve_host(host, port, self._resolver),
        )
        host = normal_host(url.host)
        request.url = url.copy_with(host=str(addresses[0]))
        if url.scheme == "https" and literal_address(host) is None:
            request.extensions = {**request.extensions, "sni_hostname": host}
        response = await self._inner.handle_async_request(request)
        if response.status_code >= 400:
            self.error_status = response.status_code
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _ReadStream(Protocol):
    """What the wrapper uses of a transport's read stream."""

    async def receive(self) -> Incoming: ...
    async def __anext__(self) -> Incoming: ...
    async def aclose(self) -> None: ...


class _WatchedReadStream:
    """The transport's read stream, calling `on_end` once it ends (the server process exited,
    the connection closed). The SDK fails the requests in flight then; the pool must also know
    that the session is gone, so that the next call reconnects instead of failing."""

    def __init__(self, inner: _ReadStream, on_end: Callable[[], None]) -> None:
        self._inner = inner
        self._on_end = on_end

    @property
    def last_context(self) -> object:  # the HTTP transport's per-message contextvars
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Incoming:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._on_end()
            raise

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Incoming:
        try:
            return await self._inner.__anext__()
        except (StopAsyncIteration, anyio.ClosedResourceError):
            self._on_end()
            raise

    async def aclose(self) -> None:
        self._on_end()
        await self._inner.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@asynccontextmanager
async def open_session(
    server: ResolvedServer,
    on_end: Callable[[], None] | None = None,
    allow_hosts: frozenset[str] = frozenset(),
    transport: GuardedTransport | None = None,
) -> AsyncIterator[ClientSession]:
    """An initialized session; the server process (stdio) or HTTP session ends with the block.

    anyio scopes inside must be left by the task that entered them: hold this in one task.
    Requests time out after the server's `timeout_s` (MCPError REQUEST_TIMEOUT).
    """
    async with AsyncExitStack() as stack:
        if server.transport == "stdio":
            assert server.command is not None
            params = StdioServerParameters(
                command=server.command, args=list(server.args), env=dict(server.env)
            )
            read, write = await stack.enter_async_context(stdio_client(params))
        else:
            assert server.url is not None
            # The SDK's way to set headers: an httpx2 client of our own. It follows no
            # redirect off the server's origin. Its transport is the outbound guard: the
            # server's URL is checked (after DNS) before the first request, each request.
            http = httpx2.AsyncClient(
                headers=dict(server.headers),
                transport=transport or GuardedTransport(allow_hosts),
                timeout=httpx2.Timeout(server.timeout_s, read=SSE_READ_TIMEOUT_S),
            )
            await stack.enter_async_context(http)
            read, write = await stack.enter_async_context(
                streamable_http_client(server.url, http_client=http)
            )
        if on_end is not None:
            read = _WatchedReadStream(read, on_end)
        session = await stack.enter_async_context(
            ClientSession(
                read, write, read_timeout_seconds=server.timeout_s, client_info=CLIENT_INFO
            )
        )
        await session.initialize()
        yield session


def describe_error(err: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """One line for an error out of the SDK: the first real error inside task groups, the
    server's message for an MCPError, the status for an HTTP error, secrets redacted. Never the
    body of a response that is not an MCP message."""
    while isinstance(err, BaseExceptionGroup):
        leaves = [e for e in err.exceptions if not isinstance(e, asyncio.CancelledError)]
        err = (leaves or list(err.exceptions))[0]
    if isinstance(err, MCPError) and err.code == types.PARSE_ERROR:
        # The SDK's message quotes what the server sent: never echoed (an internal endpoint's
        # answer could be anything).
        text = "the server's answer is not a valid MCP message"
    elif isinstance(err, httpx2.HTTPStatusError):
        response = err.response
        text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    elif isinstance(err, MCPError):
        text = err.message
    elif isinstance(err, ToolError):  # the outbound guard's refusal, as it says it
        text = str(err)
    else:
        text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return redact(text, secrets)[:MAX_ERROR_CHARS]


async def list_remote_tools(
    spec: ServerSpec, env: Mapping[str, str], allow_hosts: frozenset[str] = frozenset()
) -> list[RemoteTool]:
    """Connect, list every tool (all pages), disconnect. McpUnavailable on any failure.
    `allow_hosts` is OUTBOUND_ALLOW_HOSTS: an HTTP server elsewhere than a public address must
    be named there."""
    try:
        server = resolve(spec, env)
    except ToolError as err:
        raise McpUnavailable(str(err)) from None
    transport = GuardedTransport(allow_hosts)
    try:
        async with open_session(server, transport=transport) as session:
            tools: list[RemoteTool] = []
            cursor: str | None = None
            for _ in range(MAX_TOOL_PAGES):
                params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
                page = await session.list_tools(params=params)
                tools.extend(
                    RemoteTool(tool.name, tool.description or "", dict(tool.input_schema))
                    for tool in page.tools
                )
                cursor = page.next_cursor
                if not cursor:
                    break
            return tools
    except Exception as err:
        where = f"MCP server {spec.name!r}" if spec.name else "the MCP server"
        problem = describe_error(err, server.secrets)
        if transport.error_status is not None:
            problem = f"{problem} (HTTP {transport.error_status})"
        raise McpUnavailable(f"{where}: {problem}") from None


def list_remote_tools_blocking(
    spec: ServerSpec, env: Mapping[str, str], allow_hosts: frozenset[str] = frozenset()
) -> list[RemoteTool]:
    """`list_remote_tools` from synchronous code (the seed loader), in or out of an event loop:
    it runs in a fresh loop on a thread of its own."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcp-discovery") as pool:
        return pool.submit(asyncio.run, list_remote_tools(spec, env, allow_hosts)).result()


def render_result(result: types.CallToolResult) -> str:
    """A tool result as the model's text: text blocks as they are, other content compactly.
    Structured content is used only when there is no content block (the text is meant to
    mirror it)."""
    parts = [_render_block(block) for block in result.content]
    if not parts and result.structured_content is not None:
        parts.append(_compact_json(result.structured_content))
    return "\n".join(parts)


def _render_block(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        size = len(block.data) * 3 // 4  # base64
        return f"[{block.type}: {block.mime_type}, about {size} bytes, not shown]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link: {block.uri}" + (f" ({block.name})]" if block.name else "]")
    resource = block.resource
    if isinstance(resource, types.TextResourceContents):
        return resource.text
    return f"[resource: {resource.uri}, {resource.mime_type or 'binary'}, not shown]"


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
