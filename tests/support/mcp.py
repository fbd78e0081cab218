"""The fake MCP server: over streamable HTTP, one subprocess per test module that asks for it;
over stdio, the settings that register it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from config_store.mcp_servers import McpServerIn
from tests.fakes.mcp_server import HttpMcpProcess, stdio_settings


def stdio_in(**changes: Any) -> McpServerIn:
    """The fake MCP server over stdio, as a registration, with `changes` applied."""
    return McpServerIn.model_validate({**stdio_settings(), **changes})


@pytest.fixture(scope="module")
def mcp_http_server() -> Iterator[HttpMcpProcess]:
    server = HttpMcpProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()
