"""A real HTTP server that speaks the OpenAI and Anthropic wire formats, for tests.

It runs uvicorn in a background thread on 127.0.0.1 and answers
- `POST /v1/chat/completions` (OpenAI Chat Completions),
- `POST /v1/messages` (Anthropic Messages),
whole, or as server-sent events when the request body has `"stream": true` (the wire formats are
in `provider_stream.py`; `FakeReply.chunk_delay` paces the events, `break_after_chunks` cuts the
connection mid-stream). Faults are plain JSON error responses, streaming requests included.

The test controls it: queue replies (text and/or tool calls, with usage, cached tokens included),
queue faults (status, headers, an error body in the wire's shape, optional delay), read every
request it received (method, path, headers, JSON body, the connection it came on), and
`stop()` / `start()` it on the same port to play a provider that is down.

    server = FakeProviderServer(); server.start()
    server.queue_tool_calls([FakeToolCall("calculator", {"expression": "12*7"})])
    server.queue_fault(429, headers={"Retry-After": "2"}, wire="openai")
    server.fail_all(503); ...; server.fail_all(None)   # down for a while, then back
    ... point an SDK at server.openai_base_url / server.anthropic_base_url ...
    assert server.requests[-1].json["model"] == "gpt-4o-mini"
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.local_server import LocalServer
from tests.fakes.provider_stream import EventStream, anthropic_events, openai_events, wants_stream

Wire = Literal["openai", "anthropic"]
OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"
DEFAULT_TEXT = "Hello from the fake provider."


@dataclass(frozen=True)
class FakeToolCall:
    """A tool call to answer with. `arguments` as a str is sent raw (OpenAI), e.g. invalid JSON."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class FakeReply:
    """`input_tokens` is the whole prompt, cached tokens included, on both wires: the OpenAI wire
    reports it as `prompt_tokens` with `prompt_tokens_details.cached_tokens`; the Anthropic wire
    splits it into `input_tokens` (the rest), `cache_read_input_tokens` (the cached ones) and
    `cache_creation_input_tokens` (the ones written to the cache)."""

    text: str = ""
    tool_calls: tuple[FakeToolCall, ...] = ()
    input_tokens: int = 10
    output_tokens: int = 5
    delay: float = 0.0  # seconds to wait before answering
    cached_input_tokens: int = 0  # of input_tokens, read from the prompt cache
    cache_creation_input_tokens: int = 0  # of input_tokens, written to the cache (Anthropic)
    # Streamed replies only: seconds between two events, and a number of events after which
    # the server closes the connection without ending the response (None: the whole stream).
    chunk_delay: float = 0.0
    break_after_chunks: int | None = None
    # OpenAI wire: False plays a server that ignores `stream_options.include_usage`.
    stream_usage: bool = True


@dataclass(frozen=True)
class FakeFault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # None: a standard error body in the wire's shape
    message: str = "injected fault"
    error_type: str | None = None
    code: str | None = None  # OpenAI error.code, e.g. "context_length_exceeded"
    delay: float = 0.0


Responder = Callable[[Any, Wire], FakeReply]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # every request header, lower-case names
    json: Any
    time: float  # time.time() when received
    wire: Wire
    # The client's end of the TCP connection it came on, (host, port): requests with the same
    # peer came on the same connection.
    peer: tuple[str, int] | None = None


_ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
}


class FakeProviderServer(LocalServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.default_text = DEFAULT_TEXT
        self._lock = threading.Lock()
        self._replies: dict[Wire | None, deque[FakeReply]] = {}
        self._faults: dict[Wire | None, deque[FakeFault]] = {}
        self._requests: list[RecordedRequest] = []
        self._outage: FakeFault | None = None
        self._responder: Responder | None = None
        self._ids = itertools.count(1)
        app = Starlette(
            routes=[
                Route(OPENAI_PATH, self._openai, methods=["POST"]),
                Route(ANTHROPIC_PATH, self._anthropic, methods=["POST"]),
            ]
        )
        super().__init__(app, "fake-provider", host=host, port=port, graceful_shutdown_s=1)

    # ----- lifecycle: LocalServer's start(), stop(), running, base_url; a start() after a stop()
    # listens again on the same port.

    @property
    def openai_base_url(self) -> str:
        """What `AsyncOpenAI(base_url=...)` wants (the SDK appends /chat/completions)."""
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """What `AsyncAnthropic(base_url=...)` wants (the SDK appends /v1/messages)."""
        return self.base_url

    def reset(self) -> None:
        """Forget queued replies, faults and recorded requests; make sure it is running."""
        with self._lock:
            self._replies.clear()
            self._faults.clear()
            self._requests.clear()
            self._outage = None
            self._responder = None
            self.default_text = DEFAULT_TEXT
        self.start()

    # ----- control -----------------------------------------------------------------------------

    def queue_reply(self, reply: FakeReply, *, wire: Wire | None = None) -> None:
        """Answer the next request (of `wire`, or of either when None) with `reply`."""
        with self._lock:
            self._replies.setdefault(wire, deque()).append(reply)

    def queue_text(
        self,
        text: str,
        *,
        input_tokens: int = 10,
        output_tokens: int = 5,
        cached_input_tokens: int = 0,
        wire: Wire | None = None,
    ) -> None:
        self.queue_reply(
            FakeReply(
                text=text,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_input_tokens=cached_input_tokens,
            ),
            wire=wire,
        )

    def queue_tool_calls(
        self,
        calls: list[FakeToolCall],
        *,
        text: str = "",
        input_tokens: int = 10,
        output_tokens: int = 5,
        cached_input_tokens: int = 0,
        wire: Wire | None = None,
    ) -> None:
        self.queue_reply(
            FakeReply(
                text=text,
                tool_calls=tuple(calls),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cached_input_tokens=cached_input_tokens,
            ),
            wire=wire,
        )

    def queue_fault(
        self,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        message: str = "injected fault",
        error_type: str | None = None,
        code: str | None = None,
        delay: float = 0.0,
        wire: Wire | None = None,
    ) -> None:
        """Fail the next request with `status`. Faults are served before replies."""
        fault = FakeFault(
            status=status,
            headers=dict(headers or {}),
            body=body,
            message=message,
            error_type=error_type,
            code=code,
            delay=delay,
        )
        with self._lock:
            self._faults.setdefault(wire, deque()).append(fault)

    def reply_with(self, responder: Responder | None) -> None:
        """Answer requests that find no queued reply with `responder(body, wire)` (None: the
        default text): replies that depend on the conversation, whichever run asks first."""
        with self._lock:
            self._responder = responder

    def fail_all(self, status: int | None) -> None:
        """Answer every request with `status` (e.g. 503) until `fail_all(None)`: an outage that
        lasts a while, not a number of requests. Queued replies and faults wait meanwhile."""
        with self._lock:
            self._outage = None if status is None else FakeFault(status=status, message="down")

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, wire: Wire) -> list[RecordedRequest]:
        return [r for r in self.requests if r.wire == wire]

    @property
    def connections(self) -> int:
        """How many TCP connections the recorded requests came on."""
        return len({r.peer for r in self.requests})

    # ----- handlers ----------------------------------------------------------------------------

    async def _openai(self, request: Request) -> Response:
        body, outcome = await self._receive(request, "openai")
        if isinstance(outcome, FakeFault):
            return await self._fault_response(outcome, "openai")
        await asyncio.sleep(outcome.delay)
        if wants_stream(body):
            events = openai_events(body, outcome, next(self._ids), _model_of(body))
            return _event_stream(events, outcome)
        return JSONResponse(self._openai_completion(body, outcome))

    async def _anthropic(self, request: Request) -> Response:
        body, outcome = await self._receive(request, "anthropic")
        if isinstance(outcome, FakeFault):
            return await self._fault_response(outcome, "anthropic")
        await asyncio.sleep(outcome.delay)
        if wants_stream(body):
            return _event_stream(
                anthropic_events(outcome, next(self._ids), _model_of(body)), outcome
            )
        return JSONResponse(self._anthropic_message(body, outcome))

    async def _receive(self, request: Request, wire: Wire) -> tuple[Any, FakeReply | FakeFault]:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.url.path,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    json=body,
                    time=time.time(),
                    wire=wire,
                    peer=(request.client.host, request.client.port) if request.client else None,
                )
            )
            outcome = (
                self._outage or self._next(self._faults, wire) or self._next(self._replies, wire)
            )
            responder = self._responder
        if outcome is None and responder is not None:
            outcome = responder(body, wire)
        return body, outcome or FakeReply(text=self.default_text)

    @staticmethod
    def _next(queues: dict[Wire | None, deque[Any]], wire: Wire) -> Any:
        for key in (wire, None):
            queue = queues.get(key)
            if queue:
                return queue.popleft()
        return None

    async def _fault_response(self, fault: FakeFault, wire: Wire) -> JSONResponse:
        await asyncio.sleep(fault.delay)
        if fault.body is not None:
            body = fault.body
        elif wire == "openai":
            body = {
                "error": {
                    "message": fault.message,
                    "type": fault.error_type
                    or _OPENAI_ERROR_TYPES.get(fault.status, "server_error"),
                    "param": None,
                    "code": fault.code,
                }
            }
        else:
            body = {
                "type": "error",
                "error": {
                    "type": fault.error_type
                    or _ANTHROPIC_ERROR_TYPES.get(fault.status, "api_error"),
                    "message": fault.message,
                },
            }
        return JSONResponse(body, status_code=fault.status, headers=fault.headers)

    def _openai_completion(self, request: Any, reply: FakeReply) -> dict[str, Any]:
        n = next(self._ids)
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id or f"call_fake_{n}_{i}",
                    "type": "function",
                    "function": {
                        "name": call.name,
                        "arguments": call.arguments
                        if isinstance(call.arguments, str)
                        else json.dumps(call.arguments),
                    },
                }
                for i, call in enumerate(reply.tool_calls)
            ]
        return {
            "id": f"chatcmpl-fake-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": _model_of(request),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": reply.input_tokens,
                "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
                "prompt_tokens_details": {"cached_tokens": reply.cached_input_tokens},
            },
        }

    def _anthropic_message(self, request: Any, reply: FakeReply) -> dict[str, Any]:
        n = next(self._ids)
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for i, call in enumerate(reply.tool_calls):
            arguments = (
                json.loads(call.arguments) if isinstance(call.arguments, str) else call.arguments
            )
            content.append(
                {
                    "type": "tool_use",
                    "id": call.id or f"toolu_fake_{n}_{i}",
                    "name": call.name,
                    "input": arguments,
                }
            )
        return {
            "id": f"msg_fake_{n}",
            "type": "message",
            "role": "assistant",
            "model": _model_of(request),
            "content": content,
            "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": reply.input_tokens
                - reply.cached_input_tokens
                - reply.cache_creation_input_tokens,
                "cache_read_input_tokens": reply.cached_input_tokens,
                "cache_creation_input_tokens": reply.cache_creation_input_tokens,
                "output_tokens": reply.output_tokens,
            },
        }


def _event_stream(events: list[str], reply: FakeReply) -> EventStream:
    return EventStream(events, delay=reply.chunk_delay, break_after=reply.break_after_chunks)


def _model_of(request: Any) -> str:
    if isinstance(request, dict) and isinstance(request.get("model"), str):
        return str(request["model"])
    return "fake-model"
