"""Discovering an MCP server's tools: list them over the wire, then store what was listed.

The seed file discovers inside its own transaction (`discover_in`); the API never holds the
database open while it talks to a server (`discover`: two short transactions around the I/O).
Either way a server that cannot be reached is not an error: its tools are left as they were and
`Discovery.error` says why (it is also stored as the server's `discovery_error`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from activities.tools.mcp_client import list_remote_tools, list_remote_tools_blocking
from activities.tools.mcp_spec import McpUnavailable
from config_store.db import in_transaction
from config_store.mcp_discovery import DiscoveryChanges, record_discovery
from config_store.mcp_servers import get_server, server_spec
from config_store.mcp_spec import RemoteTool, ServerSpec
from core.settings import allow_hosts, get_settings


@dataclass(frozen=True)
class Discovery:
    changes: DiscoveryChanges
    error: str | None = None  # set when the server could not be listed

    @property
    def listed(self) -> bool:
        return self.error is None


def _allowed(allow: frozenset[str] | None) -> frozenset[str]:
    """OUTBOUND_ALLOW_HOSTS, unless the caller says: an HTTP server's URL goes through the
    outbound guard like any tool's request."""
    return allow_hosts(get_settings()) if allow is None else allow


def discover_in(
    session: Session, name: str, env: Mapping[str, str], allow: frozenset[str] | None = None
) -> Discovery:
    """Discover server `name` within the caller's transaction."""
    spec = server_spec(get_server(session, name))
    hosts = _allowed(allow)
    tools, error = _listed(lambda: list_remote_tools_blocking(spec, env, hosts))
    return Discovery(record_discovery(session, name, spec, tools, error), error)


async def discover(
    factory: sessionmaker[Session],
    name: str,
    env: Mapping[str, str],
    allow: frozenset[str] | None = None,
) -> Discovery:
    """Discover server `name`: read its settings, list its tools, store them."""

    def spec_of(session: Session) -> ServerSpec:
        return server_spec(get_server(session, name))

    spec = await asyncio.to_thread(in_transaction, factory, spec_of)
    try:
        tools: list[RemoteTool] | None = await list_remote_tools(spec, env, _allowed(allow))
        error = None
    except McpUnavailable as err:
        tools, error = None, str(err)

    def store(session: Session) -> DiscoveryChanges:
        return record_discovery(session, name, spec, tools, error)

    changes = await asyncio.to_thread(in_transaction, factory, store)
    return Discovery(changes, error)


def _listed(
    listing: Callable[[], list[RemoteTool]],
) -> tuple[list[RemoteTool] | None, str | None]:
    try:
        return listing(), None
    except McpUnavailable as err:
        return None, str(err)
