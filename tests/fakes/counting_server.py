"""A server that stands for an internal service: it answers every request with a secret and
counts the requests, so a test can prove a guard let none through."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.local_server import LocalServer

SECRET = "internal-admin-secret-4242"


class CountingServer(LocalServer):
    """Answers every request with a JSON body holding a secret, counting the requests."""

    def __init__(self) -> None:
        self.requests = 0

        async def answer(request: Request) -> Response:
            self.requests += 1
            return JSONResponse({"admin": SECRET})

        routes = [Route("/{path:path}", answer, methods=["GET", "POST", "DELETE"])]
        super().__init__(Starlette(routes=routes), "counting")
