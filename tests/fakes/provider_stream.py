"""The fake provider's streamed replies: server-sent events in each API's wire format.

OpenAI Chat Completions (`"stream": true`): `data: {chunk}` events, the text one word per chunk,
each tool call opened by a chunk with its index, id and name and then its arguments in several
pieces, a chunk with the `finish_reason`, a usage chunk (empty `choices`) when the request asks
for `stream_options.include_usage`, then `data: [DONE]`.

Anthropic Messages (`"stream": true`): `event: message_start` (input and cache usage), a `ping`,
each content block as `content_block_start`, `content_block_delta`s (`text_delta` one word each,
`input_json_delta` in several pieces) and `content_block_stop`, then `message_delta` (stop reason,
output tokens) and `message_stop`.

`EventStream` sends them with `chunk_delay` seconds between events, and may close the connection
after `break_after` events without ending the response (a stream that breaks off).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.responses import StreamingResponse
from starlette.types import Send

if TYPE_CHECKING:
    from tests.fakes.provider_server import FakeReply

# A word with the blanks around it: the pieces cover the whole text.
_WORD = re.compile(r"\s*\S+\s*")
ARGUMENT_PIECES = 3


def wants_stream(body: Any) -> bool:
    return isinstance(body, dict) and body.get("stream") is True


def words(text: str) -> list[str]:
    """`text` in word-sized pieces that concatenate back to it."""
    return _WORD.findall(text) or ([text] if text else [])


def pieces(text: str, count: int = ARGUMENT_PIECES) -> list[str]:
    """`text` cut into `count` pieces of about the same size (fewer when it is shorter)."""
    if not text:
        return []
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


def raw_arguments(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def openai_events(request: Any, reply: FakeReply, n: int, model: str) -> list[str]:
    include_usage = (
        reply.stream_usage
        and isinstance(request, dict)
        and isinstance(request.get("stream_options"), dict)
        and request["stream_options"].get("include_usage") is True
    )
    base: dict[str, Any] = {
        "id": f"chatcmpl-fake-{n}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
    }
    if include_usage:
        base["usage"] = None  # as OpenAI does: null on every chunk but the last

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return _data({**base, "choices": [choice]})

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": word}) for word in words(reply.text)]
    for i, call in enumerate(reply.tool_calls):
        opening = {
            "index": i,
            "id": call.id or f"call_fake_{n}_{i}",
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        events.append(chunk({"tool_calls": [opening]}))
        events += [
            chunk({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
            for piece in pieces(raw_arguments(call.arguments))
        ]
    events.append(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
    if include_usage:
        usage = {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": reply.cached_input_tokens},
        }
        events.append(_data({**base, "choices": [], "usage": usage}))
    events.append("data: [DONE]\n\n")
    return events


def anthropic_events(reply: FakeReply, n: int, model: str) -> list[str]:
    message: dict[str, Any] = {
        "id": f"msg_fake_{n}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply.input_tokens
            - reply.cached_input_tokens
            - reply.cache_creation_input_tokens,
            "cache_read_input_tokens": reply.cached_input_tokens,
            "cache_creation_input_tokens": reply.cache_creation_input_tokens,
            "output_tokens": 1,
        },
    }
    events = [_event("message_start", message=message), _event("ping")]
    index = 0
    if reply.text:
        events.append(
            _event("content_block_start", index=index, content_block={"type": "text", "text": ""})
        )
        events += [
            _event("content_block_delta", index=index, delta={"type": "text_delta", "text": w})
            for w in words(reply.text)
        ]
        events.append(_event("content_block_stop", index=index))
        index += 1
    for i, call in enumerate(reply.tool_calls):
        block = {
            "type": "tool_use",
            "id": call.id or f"toolu_fake_{n}_{i}",
            "name": call.name,
            "input": {},
        }
        events.append(_event("content_block_start", index=index, content_block=block))
        events += [
            _event(
                "content_block_delta",
                index=index,
                delta={"type": "input_json_delta", "partial_json": piece},
            )
            for piece in ["", *pieces(raw_arguments(call.arguments))]
        ]
        events.append(_event("content_block_stop", index=index))
        index += 1
    stop_reason = "tool_use" if reply.tool_calls else "end_turn"
    events.append(
        _event(
            "message_delta",
            delta={"stop_reason": stop_reason, "stop_sequence": None},
            usage={"output_tokens": reply.output_tokens},
        )
    )
    events.append(_event("message_stop"))
    return events


def _data(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload)}\n\n"


def _event(kind: str, **fields: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n"


class EventStream(StreamingResponse):
    """`text/event-stream` of `events`, `delay` seconds apart. With `break_after`, the response
    stops after that many events without its end, and the server closes the connection (uvicorn
    logs "ASGI callable returned without completing response.": expected)."""

    def __init__(self, events: list[str], *, delay: float, break_after: int | None) -> None:
        self._break_after = break_after
        super().__init__(
            self._paced(events, delay),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache"},
        )

    @staticmethod
    async def _paced(events: list[str], delay: float) -> AsyncIterator[bytes]:
        for i, event in enumerate(events):
            if i and delay:
                await asyncio.sleep(delay)
            yield event.encode()

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        sent = 0
        async for chunk in self.body_iterator:
            if self._break_after is not None and sent >= self._break_after:
                return  # no final body message: uvicorn drops the connection mid-response
            body = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
            await send({"type": "http.response.body", "body": body, "more_body": True})
            sent += 1
        await send({"type": "http.response.body", "body": b"", "more_body": False})
