"""The fake MCP server over streamable HTTP: one subprocess per test module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.mcp_server import HttpMcpProcess


@pytest.fixture(scope="module")
def mcp_http_server() -> Iterator[HttpMcpProcess]:
    server = HttpMcpProcess()
    server.start()
    try:
        yield server
    finally:
        server.stop()
