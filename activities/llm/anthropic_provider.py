"""Anthropic Messages API.

Non-streaming, unless the request has an `on_delta`: then the reply is streamed
(`create(stream=True)`, raw events), each `text_delta` goes to `on_delta`, tool-use blocks are
assembled from their `input_json_delta` pieces, and the usage comes from `message_start` (input,
cache) updated by `message_delta` (output; its counts are cumulative).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import anthropic
import anyio
import httpx2
from anthropic.types import (
    ContentBlockParam,
    Message,
    MessageParam,
    RawMessageStreamEvent,
    ToolParam,
    ToolResultBlockParam,
    ToolUnionParam,
)
from anthropic.types import Usage as AnthropicUsage

from activities.llm.base import ModelRequest
from activities.llm.errors import incomplete_stream, map_anthropic_error
from activities.llm.openai_provider import parse_arguments
from core.tracing import tracing_enabled
from workflows.types import (
    LlmStepResult,
    ProviderSpec,
    ToolCall,
    ToolSpec,
    TranscriptMessage,
    Usage,
)

EMPTY_OBJECT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


class _MessageParams(TypedDict):
    model: str
    max_tokens: int
    messages: list[MessageParam]
    system: str | anthropic.Omit
    tools: list[ToolUnionParam] | anthropic.Omit


def _params(request: ModelRequest) -> _MessageParams:
    """What a request sends, streamed or not. `request.temperature` is not sent: the SDK's API
    version (2026-10-21) rejects sampling parameters, and the SDK no longer offers them."""
    return _MessageParams(
        model=request.model,
        max_tokens=request.max_tokens,
        messages=to_wire_messages(request.messages),
        system=request.system_prompt or anthropic.omit,
        tools=[tool_param(t) for t in request.tools] if request.tools else anthropic.omit,
    )


def new_client(
    spec: ProviderSpec, api_key: str, headers: Mapping[str, str] | None = None
) -> anthropic.AsyncAnthropic:
    """The SDK client for `spec`. Slow (about 18 ms: its HTTP client sets up a TLS context) and
    blocking: the worker builds it once per settings, in a thread (activities/llm/clients.py)."""
    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=spec.base_url,  # None: the SDK's default endpoint
        max_retries=0,  # Temporal owns retries
        timeout=spec.timeout_s,
        default_headers=dict(headers) if headers else None,
        http_client=_traced_http_client(),
    )


def _traced_http_client() -> httpx2.AsyncClient | None:
    """While tracing is on, the SDK's default HTTP client with a span per request
    (activities/llm/traced_http.py); else None (the SDK builds its own)."""
    if not tracing_enabled():
        return None
    from activities.llm.traced_http import traced

    return traced(anthropic.DefaultAsyncHttpxClient())


class AnthropicProvider:
    """Calls over `client`, when given (a pooled one, which `aclose()` leaves open), else over a
    client of its own; call `aclose()` (or use `async with`) when done."""

    def __init__(
        self,
        spec: ProviderSpec,
        api_key: str,
        *,
        headers: Mapping[str, str] | None = None,
        redact: Iterable[str] = (),
        client: anthropic.AsyncAnthropic | None = None,
    ) -> None:
        """`headers`: extra request headers, already resolved (a given `client` was built with
        them); `redact`: values (besides the key) that must never appear in an error message,
        e.g. header values taken from the env."""
        self._spec = spec
        self._redact = (api_key, *redact)
        self._owns_client = client is None
        self._client = client if client is not None else new_client(spec, api_key, headers)

    async def complete(self, request: ModelRequest) -> LlmStepResult:
        if request.on_delta is not None:
            return await self._stream(request, request.on_delta)
        try:
            message = await self._client.messages.create(**_params(request), stream=False)
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc, self._spec, request.model, redact=self._redact) from None
        return parse_message(message, request.model)

    async def _stream(
        self, request: ModelRequest, on_delta: Callable[[str], None]
    ) -> LlmStepResult:
        """The same request with `stream=True`. An error raised while opening the stream or
        while reading it is mapped alike: the SDK lets the HTTP client's own errors out of a
        stream that breaks off mid-way, so they are turned into the SDK's connection errors (the
        same ones, TLS failures included, that the openai SDK wraps itself)."""
        reply = _StreamedMessage()
        try:
            stream = await self._client.messages.create(**_params(request), stream=True)
            async with stream:
                try:
                    async for event in stream:
                        if (text := reply.add(event)) is not None:
                            on_delta(text)
                except httpx2.TimeoutException:
                    raise anthropic.APITimeoutError(request=stream.response.request) from None
                except (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream):
                    raise anthropic.APIConnectionError(
                        message="the stream broke off", request=stream.response.request
                    ) from None
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc, self._spec, request.model, redact=self._redact) from None
        if not reply.stopped:
            raise incomplete_stream(self._spec, request.model)
        return reply.result(request.model)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.close()

    async def __aenter__(self) -> AnthropicProvider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def parse_message(message: Message, model: str) -> LlmStepResult:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in message.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            calls.append(ToolCall(id=block.id, name=block.name, arguments=dict(block.input)))
    return LlmStepResult(
        text="".join(texts),
        tool_calls=tuple(calls),
        usage=parse_usage(message.usage),
        model=message.model or model,
    )


@dataclass
class _ToolUseParts:
    id: str
    name: str
    partial_json: list[str] = field(default_factory=list)


@dataclass
class _StreamedMessage:
    """A streamed message, put together event by event."""

    blocks: dict[int, list[str] | _ToolUseParts] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    model: str = ""
    stopped: bool = False  # message_stop arrived

    def add(self, event: RawMessageStreamEvent) -> str | None:
        """Take in one event; returns its text fragment, if it carries one."""
        if event.type == "message_start":
            self.model = event.message.model
            usage = event.message.usage
            self.input_tokens = usage.input_tokens
            self.output_tokens = usage.output_tokens
            self.cache_read_input_tokens = usage.cache_read_input_tokens or 0
            self.cache_creation_input_tokens = usage.cache_creation_input_tokens or 0
        elif event.type == "content_block_start":
            block = event.content_block
            if block.type == "text":
                self.blocks[event.index] = [block.text] if block.text else []
                if block.text:
                    return block.text
            elif block.type == "tool_use":
                self.blocks[event.index] = _ToolUseParts(id=block.id, name=block.name)
        elif event.type == "content_block_delta":
            target = self.blocks.get(event.index)
            delta = event.delta
            if delta.type == "text_delta" and isinstance(target, list):
                target.append(delta.text)
                return delta.text
            if delta.type == "input_json_delta" and isinstance(target, _ToolUseParts):
                target.partial_json.append(delta.partial_json)
        elif event.type == "message_delta":
            # Cumulative counts: each one present replaces the one from message_start.
            usage_delta = event.usage
            self.output_tokens = usage_delta.output_tokens
            if usage_delta.input_tokens is not None:
                self.input_tokens = usage_delta.input_tokens
            if usage_delta.cache_read_input_tokens is not None:
                self.cache_read_input_tokens = usage_delta.cache_read_input_tokens
            if usage_delta.cache_creation_input_tokens is not None:
                self.cache_creation_input_tokens = usage_delta.cache_creation_input_tokens
        elif event.type == "message_stop":
            self.stopped = True
        return None

    def result(self, model: str) -> LlmStepResult:
        """What `parse_message` makes of the same message sent whole."""
        texts: list[str] = []
        calls: list[ToolCall] = []
        for _, block in sorted(self.blocks.items()):
            if isinstance(block, list):
                texts.extend(block)
            else:
                arguments = parse_arguments("".join(block.partial_json))
                calls.append(ToolCall(id=block.id, name=block.name, arguments=arguments))
        return LlmStepResult(
            text="".join(texts),
            tool_calls=tuple(calls),
            usage=parse_usage(
                AnthropicUsage(
                    input_tokens=self.input_tokens,
                    output_tokens=self.output_tokens,
                    cache_read_input_tokens=self.cache_read_input_tokens,
                    cache_creation_input_tokens=self.cache_creation_input_tokens,
                )
            ),
            model=self.model or model,
        )


def parse_usage(usage: AnthropicUsage) -> Usage:
    """Anthropic's `input_tokens` excludes cache reads and cache writes: all three are the prompt.
    Cache reads are the cached tokens; cache writes count (and are priced) as plain input."""
    read = usage.cache_read_input_tokens or 0
    written = usage.cache_creation_input_tokens or 0
    return Usage(
        input_tokens=usage.input_tokens + read + written,
        output_tokens=usage.output_tokens,
        cached_input_tokens=read,
    )


def tool_param(tool: ToolSpec) -> ToolParam:
    param: ToolParam = {
        "name": tool.name,
        "input_schema": tool.parameters or EMPTY_OBJECT_SCHEMA,
    }
    if tool.description:
        param["description"] = tool.description
    return param


def to_wire_messages(messages: tuple[TranscriptMessage, ...]) -> list[MessageParam]:
    """The transcript in Messages API shape.

    Assistant tool calls become `tool_use` blocks; consecutive tool results are merged into one
    user message of `tool_result` blocks (the API wants all results of a turn together). An
    assistant message with neither text nor tool calls is skipped (the API rejects empty content).
    """
    wire: list[MessageParam] = []
    results: list[ToolResultBlockParam] = []

    def flush_results() -> None:
        if results:
            wire.append({"role": "user", "content": list(results)})
            results.clear()

    for message in messages:
        if message.role == "tool":
            results.append(_tool_result(message))
            continue
        flush_results()
        if message.role == "user":
            wire.append({"role": "user", "content": message.text})
        elif message.role == "assistant":
            blocks: list[ContentBlockParam] = []
            if message.text:
                blocks.append({"type": "text", "text": message.text})
            for call in message.tool_calls:
                blocks.append(
                    {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                )
            if blocks:
                wire.append({"role": "assistant", "content": blocks})
    flush_results()
    return wire


def _tool_result(message: TranscriptMessage) -> ToolResultBlockParam:
    block: ToolResultBlockParam = {
        "type": "tool_result",
        "tool_use_id": message.tool_call_id or "",
        "content": message.text,
    }
    if message.is_error:
        block["is_error"] = True
    return block
