"""The fake servers answer a keep-alive request at once: their sockets send without Nagle.

Every benchmark's model is one of them (bench/fake_model.py). With Nagle on the accepted socket,
the response's body waited for the client to ACK its headers, and the client's delayed ACK made
each request after a connection's first ~44 ms: a fixed 44 ms in every model call of every
variant, which hid most of what the benchmark means to measure.
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.local_server import LocalServer


async def echo(request: Request) -> JSONResponse:
    return JSONResponse({"got": len(await request.body()), "pad": "x" * 2000})


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer(Starlette(routes=[Route("/echo", echo, methods=["POST"])]), "echo")
    local.start()
    yield local
    local.stop()


def test_accepted_connections_send_without_nagle(server: LocalServer) -> None:
    with httpx.Client(base_url=server.base_url) as http:
        assert http.post("/echo", json={"a": 1}).status_code == 200
        uvicorn_server = server._server  # noqa: SLF001 - the test looks at its own fake's sockets
        assert uvicorn_server is not None
        connections = list(uvicorn_server.server_state.connections)
        assert connections
        for protocol in connections:
            sock = protocol.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_keep_alive_requests_are_not_held_by_delayed_acks(server: LocalServer) -> None:
    times = []
    with httpx.Client(base_url=server.base_url) as http:
        for _ in range(15):
            began = time.perf_counter()
            assert http.post("/echo", json={"messages": ["m" * 500]}).status_code == 200
            times.append(time.perf_counter() - began)
    # ~44 ms each (a delayed ACK) when Nagle holds the body; 1-3 ms here without it.
    assert statistics.median(times[1:]) < 0.02, times
