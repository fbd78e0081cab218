"""The API's uvicorn (orch/serve.py): it parses HTTP with httptools (C), not the pure-Python
h11, and keeps an idle connection open longer than its clients do."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.settings import Settings
from orch.serve import KEEP_ALIVE_S, _api_server
from tests.support.temporal import free_port

HTTPX_KEEP_ALIVE_S = 5.0  # httpx's default keepalive_expiry


def test_the_api_parses_requests_with_httptools(tmp_path: Path) -> None:
    server = _api_server(Settings(database_url=f"sqlite:///{tmp_path}/orch.db", log_file=None))
    server.config.load()
    assert server.config.http_protocol_class is HttpToolsProtocol


async def test_an_idle_connection_outlives_a_clients_keep_alive(tmp_path: Path) -> None:
    """A connection left idle for longer than httpx keeps one (5 s) still answers: the API
    closes idle connections only after KEEP_ALIVE_S, so a client never sends on one it is
    closing at the same moment."""
    port = free_port()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/orch.db",
        log_file=None,
        api_host="127.0.0.1",
        api_port=port,
    )
    assert KEEP_ALIVE_S > 60  # above the idle timeouts of common clients and load balancers
    server = _api_server(settings)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done()
            await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for idle in (HTTPX_KEEP_ALIVE_S + 0.5, 0.0):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            assert head.startswith(b"HTTP/1.1 200"), head
            length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
            assert length is not None
            await reader.readexactly(int(length[1]))
            await asyncio.sleep(idle)  # past httpx's expiry: uvicorn's default would close it
        writer.close()
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)
