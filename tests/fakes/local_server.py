"""`LocalServer` runs a Starlette app with uvicorn in a background thread on 127.0.0.1. The fake
HTTP servers of the tests (provider, HTTP API, search, GitHub) subclass it, passing their app.

    server = LocalServer(app, "fake-thing"); server.start()
    ... fetch f"{server.base_url}/..." ...
    server.stop(); server.start()   # listens again on the same port: a service that was down
"""

from __future__ import annotations

import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette


class LocalServer:
    """A Starlette app served by uvicorn in a daemon thread; the first `start()` picks a free
    port (unless one is given), later ones listen again on that port. `start()` while running
    and `stop()` while stopped do nothing."""

    def __init__(
        self,
        app: Starlette,
        name: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        graceful_shutdown_s: int | None = None,
    ) -> None:
        self.app = app
        self.name = name
        self.host = host
        self.port = port
        self.graceful_shutdown_s = graceful_shutdown_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP.
        # Without it, Nagle holds a response's body until the client ACKs its headers, and the
        # client's delayed ACK makes every keep-alive request ~40 ms
        # (tests/bench/test_fake_server_wire.py).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=self.graceful_shutdown_s,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server, self._thread = None, None
