"""OpenAI Chat Completions (kinds `openai` and `openai_compatible`).

Non-streaming, unless the request has an `on_delta`: then the reply is streamed (with
`stream_options.include_usage`, so the last chunk carries the usage; a server that sends none
reports 0), each text fragment goes to `on_delta`, and the tool calls are assembled by index from
their fragments.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import httpx2
import openai
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
    ChatCompletionToolUnionParam,
)
from openai.types.completion_usage import CompletionUsage
from openai.types.shared_params import FunctionDefinition
from temporalio.exceptions import ApplicationError

from activities.llm.base import ModelRequest
from activities.llm.errors import PROVIDER_ERROR, incomplete_stream, map_openai_error
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
CHAT_PATH = "/chat/completions"
STREAM_OPTIONS = {"include_usage": True}  # the usage comes in the stream's last chunk


class _ChatParams(TypedDict):
    model: str
    messages: list[ChatCompletionMessageParam]
    tools: list[ChatCompletionToolUnionParam] | openai.Omit
    temperature: float | None | openai.Omit
    max_completion_tokens: int | None | openai.Omit
    max_tokens: int | None | openai.Omit


def new_client(
    spec: ProviderSpec, api_key: str, headers: Mapping[str, str] | None = None
) -> openai.AsyncOpenAI:
    """The SDK client for `spec`. Slow (about 18 ms: its HTTP client sets up a TLS context) and
    blocking: the worker builds it once per settings, in a thread (activities/llm/clients.py)."""
    return openai.AsyncOpenAI(
        api_key=api_key,
        base_url=spec.base_url,
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

    return traced(openai.DefaultAsyncHttpxClient())


class OpenAIProvider:
    """Calls over `client`, when given (a pooled one, which `aclose()` leaves open), else over a
    client of its own; call `aclose()` (or use `async with`) when done."""

    def __init__(
        self,
        spec: ProviderSpec,
        api_key: str,
        *,
        headers: Mapping[str, str] | None = None,
        redact: Iterable[str] = (),
        client: openai.AsyncOpenAI | None = None,
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
            response = await self._client.post(
                CHAT_PATH, body=self._body(request), cast_to=ChatCompletion
            )
        except openai.OpenAIError as exc:
            raise map_openai_error(exc, self._spec, request.model, redact=self._redact) from None
        return self._parse(response, request.model)

    def _params(self, request: ModelRequest) -> _ChatParams:
        """What a request sends, streamed or not."""
        # OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens);
        # OpenAI-compatible servers widely understand only max_tokens.
        native = self._spec.kind == "openai"
        return _ChatParams(
            model=request.model,
            messages=to_wire_messages(request.system_prompt, request.messages),
            tools=[tool_param(t) for t in request.tools] if request.tools else openai.omit,
            temperature=request.temperature if request.temperature is not None else openai.omit,
            max_completion_tokens=request.max_tokens if native else openai.omit,
            max_tokens=openai.omit if native else request.max_tokens,
        )

    def _body(self, request: ModelRequest) -> dict[str, Any]:
        """The request's JSON body, as the SDK's `chat.completions.create` would send it. Posted
        as it is: `create` first walks every message and tool schema through the SDK's
        TypedDict transform, which changes nothing in these plain JSON values and was a third
        of the worker's CPU under bench/overhead.py."""
        params = self._params(request)
        return {key: value for key, value in params.items() if not isinstance(value, openai.Omit)}

    async def _stream(
        self, request: ModelRequest, on_delta: Callable[[str], None]
    ) -> LlmStepResult:
        """The same request with `stream=True`. An error raised while opening the stream or
        while reading it (one that breaks off mid-way: a connection error) is mapped alike."""
        reply = _StreamedReply()
        try:
            body = {**self._body(request), "stream": True, "stream_options": STREAM_OPTIONS}
            stream = await self._client.post(
                CHAT_PATH,
                body=body,
                cast_to=ChatCompletion,
                stream=True,
                stream_cls=openai.AsyncStream[ChatCompletionChunk],
            )
            async with stream:
                async for chunk in stream:
                    for text in reply.add(chunk):
                        on_delta(text)
        except openai.OpenAIError as exc:
            raise map_openai_error(exc, self._spec, request.model, redact=self._redact) from None
        if not reply.choices_seen:
            raise self._no_choices(request.model)
        if not reply.finished:
            raise incomplete_stream(self._spec, request.model)
        return reply.result(request.model)

    def _no_choices(self, model: str) -> ApplicationError:
        return ApplicationError(
            f"{self._spec.kind} provider '{self._spec.name}' (model {model}) "
            "answered with no choices",
            type=PROVIDER_ERROR,
        )

    def _parse(self, response: ChatCompletion, model: str) -> LlmStepResult:
        if not response.choices:
            raise self._no_choices(model)
        message = response.choices[0].message
        text = message.content or message.refusal or ""
        calls: list[ToolCall] = []
        for call in message.tool_calls or ():
            if call.type == "function":
                calls.append(
                    ToolCall(
                        id=call.id,
                        name=call.function.name,
                        arguments=parse_arguments(call.function.arguments),
                    )
                )
        return LlmStepResult(
            text=text,
            tool_calls=tuple(calls),
            usage=parse_usage(response.usage),
            model=response.model or model,
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.close()

    async def __aenter__(self) -> OpenAIProvider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


@dataclass
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _StreamedReply:
    """The first choice of a streamed reply, put together chunk by chunk."""

    text: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    calls: dict[int, _ToolCallParts] = field(default_factory=dict)
    usage: CompletionUsage | None = None
    model: str = ""
    choices_seen: bool = False
    finished: bool = False  # a finish_reason arrived: the model is done

    def add(self, chunk: ChatCompletionChunk) -> list[str]:
        """Take in one chunk; returns its text fragments, in order."""
        self.model = self.model or chunk.model
        if chunk.usage is not None:  # the last chunk, with include_usage (choices empty)
            self.usage = chunk.usage
        fragments: list[str] = []
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            self.choices_seen = True
            delta = choice.delta
            if delta.content:
                self.text.append(delta.content)
                fragments.append(delta.content)
            if delta.refusal:  # a refusal comes instead of content, not with it
                self.refusal.append(delta.refusal)
                fragments.append(delta.refusal)
            for part in delta.tool_calls or ():
                call = self.calls.setdefault(part.index, _ToolCallParts())
                call.id = call.id or part.id or ""
                if part.function is not None:
                    call.name += part.function.name or ""
                    if part.function.arguments:
                        call.arguments.append(part.function.arguments)
            if choice.finish_reason is not None:
                self.finished = True
        return fragments

    def result(self, model: str) -> LlmStepResult:
        """What `OpenAIProvider._parse` makes of the same reply sent whole."""
        calls = tuple(
            ToolCall(id=c.id, name=c.name, arguments=parse_arguments("".join(c.arguments)))
            for _, c in sorted(self.calls.items())
        )
        return LlmStepResult(
            text="".join(self.text) or "".join(self.refusal),
            tool_calls=calls,
            usage=parse_usage(self.usage),
            model=self.model or model,
        )


def parse_usage(usage: CompletionUsage | None) -> Usage:
    """`prompt_tokens` counts cached tokens too; `prompt_tokens_details.cached_tokens` says how
    many of them were cached (absent on many OpenAI-compatible servers: 0)."""
    if usage is None:
        return Usage()
    details = usage.prompt_tokens_details
    return Usage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cached_input_tokens=(details.cached_tokens or 0) if details else 0,
    )


def parse_arguments(raw: str | None) -> dict[str, Any]:
    """Tool-call arguments as the model sent them; invalid JSON is kept under `_raw`."""
    if not raw or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"_raw": raw}
    return value if isinstance(value, dict) else {"_raw": raw}


def tool_param(tool: ToolSpec) -> ChatCompletionFunctionToolParam:
    function: FunctionDefinition = {
        "name": tool.name,
        "parameters": tool.parameters or EMPTY_OBJECT_SCHEMA,
    }
    if tool.description:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def to_wire_messages(
    system_prompt: str, messages: tuple[TranscriptMessage, ...]
) -> list[ChatCompletionMessageParam]:
    """The transcript in Chat Completions shape: system, user, assistant(+tool_calls), tool."""
    wire: list[ChatCompletionMessageParam] = []
    if system_prompt:
        wire.append({"role": "system", "content": system_prompt})
    for message in messages:
        if message.role == "user":
            wire.append({"role": "user", "content": message.text})
        elif message.role == "assistant":
            if message.tool_calls:
                wire.append(
                    {
                        "role": "assistant",
                        "content": message.text or None,
                        "tool_calls": [_tool_call_param(c) for c in message.tool_calls],
                    }
                )
            else:
                wire.append({"role": "assistant", "content": message.text})
        elif message.role == "tool":
            # The wire has no error flag: a failed tool's text says so itself.
            wire.append(
                {
                    "role": "tool",
                    "tool_call_id": message.tool_call_id or "",
                    "content": message.text,
                }
            )
    return wire


def _tool_call_param(call: ToolCall) -> ChatCompletionMessageFunctionToolCallParam:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
    }
