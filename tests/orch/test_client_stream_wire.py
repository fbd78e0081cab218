"""How the SDK's event iterator treats what a stream server does, against a scripted SSE server
over real HTTP: ends early, resends, stalls, refuses, breaks off."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from orch.client import AsyncOrch, Orch, OrchApiError, OrchStreamError
from tests.fakes.local_server import LocalServer

pytestmark = pytest.mark.timeout(60)

Part = str | float  # an SSE chunk to send, or seconds to wait


def frame(offset: int | None, kind: str, **data: Any) -> str:
    body = json.dumps({"type": kind, "run_id": "r", "step": 1, "time": None, "data": data})
    head = f"id: {offset}\n" if offset is not None else ""
    return f"{head}event: {kind}\ndata: {body}\n\n"


class ScriptedStream:
    """Answers the n-th connection to /v1/runs/r/events with the n-th of `script`."""

    def __init__(self, script: list[Callable[[], Response]]) -> None:
        self.script = script
        self.last_event_ids: list[str | None] = []
        self.server = LocalServer(
            Starlette(routes=[Route("/v1/runs/r/events", self.events)]), "scripted-sse"
        )

    async def events(self, request: Request) -> Response:
        self.last_event_ids.append(request.headers.get("last-event-id"))
        answer = self.script[min(len(self.last_event_ids), len(self.script)) - 1]
        return answer()


def stream(*parts: Part) -> Callable[[], Response]:
    async def body() -> AsyncIterator[str]:
        for part in parts:
            if isinstance(part, float):
                await asyncio.sleep(part)
            else:
                yield part

    return lambda: StreamingResponse(body(), media_type="text/event-stream")


def error(status: int, code: str) -> Callable[[], Response]:
    return lambda: JSONResponse({"error": code, "detail": f"{code}!"}, status_code=status)


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedStream]]:
    made: list[ScriptedStream] = []

    def make(*script: Callable[[], Response]) -> ScriptedStream:
        fake = ScriptedStream(list(script))
        fake.server.start()
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.server.stop()


def read(fake: ScriptedStream, **options: Any) -> list[int | None]:
    with Orch(fake.server.base_url, "t", **options) as orch:
        return [e.offset for e in orch.events("r")]


def test_a_stream_that_ends_early_is_resumed_and_a_resent_event_dropped(
    scripted: Callable[..., ScriptedStream],
) -> None:
    fake = scripted(
        stream(frame(0, "run.started"), frame(1, "step.started")),
        # Resends 1; after the terminal event the SDK stops reading (the server would go on).
        stream(
            ": ping\n\n",
            frame(1, "step.started"),
            frame(2, "llm.completed"),
            frame(3, "run.completed", answer="x"),
            30.0,
        ),
    )
    assert read(fake) == [0, 1, 2, 3]
    assert fake.last_event_ids == [None, "1"]


async def test_the_async_iterator_resumes_the_same_way(
    scripted: Callable[..., ScriptedStream],
) -> None:
    fake = scripted(
        stream(frame(0, "run.started")),
        stream(frame(0, "run.started"), frame(1, "run.failed", error="boom")),
    )
    async with AsyncOrch(fake.server.base_url, "t") as orch:
        events = [e async for e in orch.events("r", after=None)]
    assert [(e.offset, e.type) for e in events] == [(0, "run.started"), (1, "run.failed")]
    assert events[1].data == {"error": "boom"} and events[1].terminal
    assert fake.last_event_ids == [None, "0"]


def test_a_silent_stream_is_taken_for_dead_and_resumed(
    scripted: Callable[..., ScriptedStream],
) -> None:
    fake = scripted(
        stream(frame(0, "run.started"), 10.0),
        stream(frame(1, "run.completed")),
    )
    assert read(fake, stream_read_timeout=0.5) == [0, 1]
    assert fake.last_event_ids == [None, "0"]


def test_a_503_or_a_broken_feed_is_retried(scripted: Callable[..., ScriptedStream]) -> None:
    fake = scripted(
        error(503, "no_worker"),
        stream(frame(0, "run.started"), frame(None, "stream.error", error="broke off")),
        stream(frame(None, "stream.unavailable"), frame(1, "run.cancelled")),
    )
    with Orch(fake.server.base_url, "t") as orch:
        events = [(e.offset, e.type) for e in orch.events("r")]
    assert events == [(0, "run.started"), (None, "stream.unavailable"), (1, "run.cancelled")]
    assert fake.last_event_ids == [None, None, "0"]


def test_a_refusal_is_raised_at_once(scripted: Callable[..., ScriptedStream]) -> None:
    fake = scripted(error(404, "not_found"))
    with pytest.raises(OrchApiError) as refused:
        read(fake)
    assert (refused.value.status, refused.value.code) == (404, "not_found")
    assert fake.last_event_ids == [None]


def test_the_budget_ends_a_stream_that_never_comes_back(
    scripted: Callable[..., ScriptedStream],
) -> None:
    fake = scripted(stream(frame(0, "run.started"), frame(1, "step.started")), error(502, "bad"))
    with pytest.raises(OrchStreamError) as lost:
        read(fake, reconnect_budget=1.0)
    assert lost.value.last_offset == 1 and "502" in str(lost.value)
    assert len(fake.last_event_ids) >= 3 and set(fake.last_event_ids[1:]) == {"1"}
