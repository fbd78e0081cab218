"""Anthropic Messages API, non-streaming."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import anthropic
from anthropic.types import (
    ContentBlockParam,
    Message,
    MessageParam,
    ToolParam,
    ToolResultBlockParam,
)
from anthropic.types import Usage as AnthropicUsage

from activities.llm.base import ModelRequest
from activities.llm.errors import map_anthropic_error
from workflows.types import (
    LlmStepResult,
    ProviderSpec,
    ToolCall,
    ToolSpec,
    TranscriptMessage,
    Usage,
)

EMPTY_OBJECT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


class AnthropicProvider:
    """One `AsyncAnthropic` client per instance; call `aclose()` (or use `async with`) when done."""

    def __init__(
        self,
        spec: ProviderSpec,
        api_key: str,
        *,
        headers: Mapping[str, str] | None = None,
        redact: Iterable[str] = (),
    ) -> None:
        """`headers`: extra request headers, already resolved; `redact`: values (besides the key)
        that must never appear in an error message, e.g. header values taken from the env."""
        self._spec = spec
        self._redact = (api_key, *redact)
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=spec.base_url,  # None: the SDK's default endpoint
            max_retries=0,  # Temporal owns retries
            timeout=spec.timeout_s,
            default_headers=dict(headers) if headers else None,
        )

    async def complete(self, request: ModelRequest) -> LlmStepResult:
        # `request.temperature` is not sent: the SDK's API version (2026-10-21) rejects sampling
        # parameters, and the SDK no longer offers them.
        try:
            message = await self._client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens,
                messages=to_wire_messages(request.messages),
                system=request.system_prompt or anthropic.omit,
                tools=[tool_param(t) for t in request.tools] if request.tools else anthropic.omit,
                stream=False,
            )
        except anthropic.AnthropicError as exc:
            raise map_anthropic_error(exc, self._spec, request.model, redact=self._redact) from None
        return parse_message(message, request.model)

    async def aclose(self) -> None:
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
