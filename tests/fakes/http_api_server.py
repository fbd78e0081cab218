"""A real HTTP API server for the tests of the outbound guard and the HTTP tools.

It runs uvicorn in a background thread on 127.0.0.1 (`LocalServer`) and records every request it
receives (method, path, query, headers, body). Any path answers with an echo of the request as JSON
(method, path, query, headers, body) unless the test set an answer for it:

    server = FakeHttpApiServer(); server.start()
    server.answer("/items/1", Canned(json={"id": 1}))
    server.answer("/old", Canned.redirect("/new", status=301))
    server.queue("/flaky", Canned(status=503))   # the next request only, then the fixed answer
    server.answer("/big", Canned(endless=True))   # streams bytes until the client hangs up
    ... fetch f"{server.base_url}/items/1" ...
    assert server.requests_to("/items/1")[0].headers["idempotency-key"].startswith("orch-")
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.local_server import LocalServer

CHUNK = b"x" * 16_384


@dataclass(frozen=True)
class Canned:
    """One answer. `echo` answers the request as JSON (with this status), else `json` wins over
    `text` over `body`; `endless` streams bytes until the client hangs up."""

    status: int = 200
    json: Any = None
    text: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    endless: bool = False
    echo: bool = False

    @staticmethod
    def redirect(location: str, status: int = 302) -> Canned:
        return Canned(status=status, headers={"Location": location})


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # decoded
    raw_path: str  # as sent, percent-encoding kept
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float = 0.0  # time.monotonic() when it arrived

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class FakeHttpApiServer(LocalServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, Canned] = {}
        self._queued: dict[str, deque[Canned]] = {}
        self._requests: list[RecordedRequest] = []
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=methods)])
        super().__init__(app, "fake-http-api", host=host, port=port, graceful_shutdown_s=1)

    def reset(self) -> None:
        with self._lock:
            self._answers.clear()
            self._queued.clear()
            self._requests.clear()

    def answer(self, path: str, canned: Canned) -> None:
        """Answer every request to `path` (after any queued answers) with `canned`."""
        with self._lock:
            self._answers[path] = canned

    def queue(self, path: str, *canned: Canned) -> None:
        """Answer the next requests to `path` with these, in order."""
        with self._lock:
            self._queued.setdefault(path, deque()).extend(canned)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            raw_path=request.scope["raw_path"].decode("ascii"),
            query=dict(request.query_params),
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self._lock:
            self._requests.append(recorded)
            queued = self._queued.get(recorded.path)
            canned = queued.popleft() if queued else self._answers.get(recorded.path)
        if canned is None:
            return _json_response(200, _echo(recorded), {})
        if canned.delay:
            await asyncio.sleep(canned.delay)
        if canned.endless:
            return StreamingResponse(_endless(), status_code=canned.status, headers=canned.headers)
        if canned.echo:
            return _json_response(canned.status, _echo(recorded), canned.headers)
        if canned.json is not None:
            return _json_response(canned.status, canned.json, canned.headers)
        content = canned.body if canned.text is None else canned.text.encode()
        return Response(content, status_code=canned.status, headers=canned.headers)


def _echo(request: RecordedRequest) -> dict[str, Any]:
    return {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "body": request.body.decode("utf-8", errors="replace"),
    }


def _json_response(status: int, value: Any, headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(value), status_code=status, headers=headers, media_type="application/json"
    )


async def _endless() -> AsyncIterator[bytes]:
    while True:
        yield CHUNK
        await asyncio.sleep(0)
