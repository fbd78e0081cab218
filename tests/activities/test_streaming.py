"""Token streaming (`ModelRequest.on_delta`) with the real SDKs against the fake provider server."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import anthropic
import httpx2
import pytest
from temporalio.exceptions import ApplicationError

from activities.llm.anthropic_provider import AnthropicProvider
from activities.llm.base import ModelProvider, ModelRequest
from activities.llm.errors import (
    CONTEXT_LENGTH_EXCEEDED,
    PROVIDER_RATE_LIMITED,
    PROVIDER_REJECTED,
    PROVIDER_UNAVAILABLE,
    map_anthropic_error,
)
from activities.llm.openai_provider import OpenAIProvider
from tests.fakes import FakeProviderServer, FakeReply, FakeToolCall
from tests.support.llm import API_KEY, anthropic_spec, openai_spec, request
from workflows.types import LlmStepResult, ProviderSpec, ToolCall, Usage

CLAUDE = "claude-test-model"
TEXT = "The quick brown fox jumps."
WORDS = ["The ", "quick ", "brown ", "fox ", "jumps."]


class Deltas:
    """An `on_delta` that records each fragment and when it came."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.times: list[float] = []

    def __call__(self, text: str) -> None:
        self.texts.append(text)
        self.times.append(time.monotonic())


def _openai(
    server: FakeProviderServer, *, timeout_s: float = 60.0
) -> tuple[OpenAIProvider, ProviderSpec]:
    spec = dataclasses.replace(openai_spec(server.openai_base_url), timeout_s=timeout_s)
    return OpenAIProvider(spec, API_KEY), spec


def _anthropic(
    server: FakeProviderServer, *, timeout_s: float = 60.0
) -> tuple[AnthropicProvider, ProviderSpec]:
    spec = dataclasses.replace(anthropic_spec(server.anthropic_base_url), timeout_s=timeout_s)
    return AnthropicProvider(spec, API_KEY), spec


def _streaming(spec: ProviderSpec, deltas: Deltas, *, model: str = "gpt-4o-mini") -> ModelRequest:
    return dataclasses.replace(request(spec, model=model), on_delta=deltas)


async def _stream(
    provider: ModelProvider, spec: ProviderSpec, model: str
) -> tuple[LlmStepResult, Deltas]:
    deltas = Deltas()
    try:
        result = await provider.complete(_streaming(spec, deltas, model=model))
    finally:
        await provider.aclose()
    return result, deltas


async def _stream_fails(
    provider: ModelProvider, spec: ProviderSpec, model: str
) -> tuple[ApplicationError, Deltas]:
    deltas = Deltas()
    try:
        with pytest.raises(ApplicationError) as caught:
            await provider.complete(_streaming(spec, deltas, model=model))
    finally:
        await provider.aclose()
    error = caught.value
    assert error.__cause__ is None
    assert API_KEY not in str(error)
    return error, deltas


# ----- OpenAI -----


async def test_openai_deltas_arrive_over_time(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_reply(
        FakeReply(
            text=TEXT, input_tokens=1200, output_tokens=6, cached_input_tokens=1024, chunk_delay=0.1
        )
    )

    result, deltas = await _stream(*_openai(fake_provider), "gpt-4o-mini")

    assert deltas.texts == WORDS
    assert "".join(deltas.texts) == result.text == TEXT
    assert deltas.times[-1] - deltas.times[0] >= 0.3  # one by one, not all at the end
    assert result.tool_calls == ()
    assert result.usage == Usage(input_tokens=1200, output_tokens=6, cached_input_tokens=1024)
    assert result.model == "gpt-4o-mini"
    (sent,) = fake_provider.requests
    assert sent.json["stream"] is True
    assert sent.json["stream_options"] == {"include_usage": True}
    assert sent.json["max_completion_tokens"] == 1024


async def test_openai_two_parallel_tool_calls_from_fragments(
    fake_provider: FakeProviderServer,
) -> None:
    fake_provider.queue_tool_calls(
        [
            FakeToolCall("calculator", {"expression": "12*7 + 1"}, id="call_a"),
            FakeToolCall("calculator", {"expression": "2*3"}, id="call_b"),
        ],
        text="Let me compute both.",
        input_tokens=30,
        output_tokens=9,
    )

    result, deltas = await _stream(*_openai(fake_provider), "gpt-4o-mini")

    assert "".join(deltas.texts) == result.text == "Let me compute both."
    assert len(deltas.texts) == 4
    assert result.tool_calls == (
        ToolCall(id="call_a", name="calculator", arguments={"expression": "12*7 + 1"}),
        ToolCall(id="call_b", name="calculator", arguments={"expression": "2*3"}),
    )
    assert result.usage == Usage(input_tokens=30, output_tokens=9)


async def test_openai_streamed_result_equals_the_whole_one(
    fake_provider: FakeProviderServer,
) -> None:
    reply = FakeReply(
        text="Both.",
        tool_calls=(FakeToolCall("calculator", {"expression": "1+1"}, id="c1"),),
        cached_input_tokens=3,
    )
    fake_provider.queue_reply(reply)
    fake_provider.queue_reply(reply)
    spec = openai_spec(fake_provider.openai_base_url)

    async with OpenAIProvider(spec, API_KEY) as provider:
        whole = await provider.complete(request(spec))
        streamed = await provider.complete(_streaming(spec, Deltas()))

    assert streamed == whole


async def test_openai_invalid_arguments_are_kept_raw(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_tool_calls([FakeToolCall("calculator", '{"expression": "1+', id="c")])

    result, deltas = await _stream(*_openai(fake_provider), "gpt-4o-mini")

    assert deltas.texts == []
    assert result.tool_calls[0].arguments == {"_raw": '{"expression": "1+'}


async def test_openai_compatible_without_usage_in_the_stream(
    fake_provider: FakeProviderServer,
) -> None:
    fake_provider.queue_reply(FakeReply(text="Local.", stream_usage=False))
    spec = openai_spec(fake_provider.openai_base_url, kind="openai_compatible")
    deltas = Deltas()

    async with OpenAIProvider(spec, "no-key") as provider:
        result = await provider.complete(_streaming(spec, deltas, model="llama3"))

    assert result.text == "Local."
    assert result.usage == Usage()
    assert fake_provider.requests[0].json["max_tokens"] == 1024


async def test_openai_stream_broken_midway_is_retryable(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_reply(FakeReply(text=TEXT, break_after_chunks=3))
    spec = openai_spec(fake_provider.openai_base_url)

    error, deltas = await _stream_fails(OpenAIProvider(spec, API_KEY), spec, "gpt-4o-mini")

    assert error.type == PROVIDER_UNAVAILABLE
    assert not error.non_retryable
    assert deltas.texts == WORDS[:2]  # the role chunk, then two words: best-effort
    assert len(fake_provider.requests) == 1


async def test_openai_stream_that_stalls_times_out(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_reply(FakeReply(text=TEXT, chunk_delay=1.0))
    error, deltas = await _stream_fails(*_openai(fake_provider, timeout_s=0.3), "gpt-4o-mini")

    assert error.type == PROVIDER_UNAVAILABLE
    assert "timed out" in error.message
    assert deltas.texts == []  # the first chunk has the role only


@pytest.mark.parametrize(
    ("status", "code", "error_type", "retryable"),
    [
        (429, None, PROVIDER_RATE_LIMITED, True),
        (503, None, PROVIDER_UNAVAILABLE, True),
        (401, None, PROVIDER_REJECTED, False),
        (400, "context_length_exceeded", CONTEXT_LENGTH_EXCEEDED, False),
    ],
)
async def test_openai_faults_before_the_stream(
    fake_provider: FakeProviderServer,
    status: int,
    code: str | None,
    error_type: str,
    retryable: bool,
) -> None:
    fake_provider.queue_fault(status, code=code, headers={"Retry-After": "2"})
    spec = openai_spec(fake_provider.openai_base_url)

    error, deltas = await _stream_fails(OpenAIProvider(spec, API_KEY), spec, "gpt-4o-mini")

    assert error.type == error_type
    assert error.non_retryable is not retryable
    assert f"answered {status}" in error.message
    if status == 429:
        assert error.next_retry_delay == timedelta(seconds=2)
    assert deltas.texts == []
    assert fake_provider.requests[0].json["stream"] is True


async def test_openai_without_on_delta_does_not_stream(fake_provider: FakeProviderServer) -> None:
    spec = openai_spec(fake_provider.openai_base_url)
    async with OpenAIProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec))

    assert result.text == fake_provider.default_text
    sent = fake_provider.requests[0].json
    assert sent.get("stream") in (None, False)
    assert "stream_options" not in sent


# ----- Anthropic -----


async def test_anthropic_deltas_arrive_over_time(fake_provider: FakeProviderServer) -> None:
    # On the wire: input_tokens 200 (the rest), cache reads 1000, cache writes 300.
    fake_provider.queue_reply(
        FakeReply(
            text=TEXT,
            input_tokens=1500,
            output_tokens=7,
            cached_input_tokens=1000,
            cache_creation_input_tokens=300,
            chunk_delay=0.1,
        )
    )

    result, deltas = await _stream(*_anthropic(fake_provider), CLAUDE)

    assert deltas.texts == WORDS
    assert "".join(deltas.texts) == result.text == TEXT
    assert deltas.times[-1] - deltas.times[0] >= 0.3
    assert result.usage == Usage(input_tokens=1500, output_tokens=7, cached_input_tokens=1000)
    assert result.model == CLAUDE
    (sent,) = fake_provider.requests
    assert sent.path == "/v1/messages"
    assert sent.json["stream"] is True
    assert sent.json["system"] == "You are terse."


async def test_anthropic_tool_use_from_partial_json(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_tool_calls(
        [
            FakeToolCall("calculator", {"expression": "12*7 + 1"}, id="toolu_1"),
            FakeToolCall("calculator", {"expression": "2+2"}, id="toolu_2"),
        ],
        text="Computing.",
        input_tokens=30,
        output_tokens=9,
    )

    result, deltas = await _stream(*_anthropic(fake_provider), CLAUDE)

    assert deltas.texts == ["Computing."]
    assert result.text == "Computing."
    assert result.tool_calls == (
        ToolCall(id="toolu_1", name="calculator", arguments={"expression": "12*7 + 1"}),
        ToolCall(id="toolu_2", name="calculator", arguments={"expression": "2+2"}),
    )
    assert result.usage == Usage(input_tokens=30, output_tokens=9)


async def test_anthropic_streamed_result_equals_the_whole_one(
    fake_provider: FakeProviderServer,
) -> None:
    reply = FakeReply(
        text="Both of them.",
        tool_calls=(FakeToolCall("calculator", {"expression": "1+1"}, id="toolu_9"),),
        input_tokens=50,
        cached_input_tokens=20,
        cache_creation_input_tokens=10,
    )
    fake_provider.queue_reply(reply)
    fake_provider.queue_reply(reply)
    spec = anthropic_spec(fake_provider.anthropic_base_url)

    async with AnthropicProvider(spec, API_KEY) as provider:
        whole = await provider.complete(request(spec, model=CLAUDE))
        streamed = await provider.complete(_streaming(spec, Deltas(), model=CLAUDE))

    assert streamed == whole


async def test_anthropic_stream_broken_midway_is_retryable(
    fake_provider: FakeProviderServer,
) -> None:
    # message_start, ping, content_block_start, then two text deltas.
    fake_provider.queue_reply(FakeReply(text=TEXT, break_after_chunks=5))
    spec = anthropic_spec(fake_provider.anthropic_base_url)

    error, deltas = await _stream_fails(AnthropicProvider(spec, API_KEY), spec, CLAUDE)

    assert error.type == PROVIDER_UNAVAILABLE
    assert not error.non_retryable
    assert "unreachable" in error.message
    assert deltas.texts == WORDS[:2]


async def test_anthropic_stream_that_stalls_times_out(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_reply(FakeReply(text=TEXT, chunk_delay=1.0))
    error, _ = await _stream_fails(*_anthropic(fake_provider, timeout_s=0.3), CLAUDE)

    assert error.type == PROVIDER_UNAVAILABLE
    assert "timed out" in error.message


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (429, PROVIDER_RATE_LIMITED, True),
        (529, PROVIDER_UNAVAILABLE, True),
        (401, PROVIDER_REJECTED, False),
    ],
)
async def test_anthropic_faults_before_the_stream(
    fake_provider: FakeProviderServer, status: int, error_type: str, retryable: bool
) -> None:
    fake_provider.queue_fault(status, message="nope")
    spec = anthropic_spec(fake_provider.anthropic_base_url)

    error, deltas = await _stream_fails(AnthropicProvider(spec, API_KEY), spec, CLAUDE)

    assert error.type == error_type
    assert error.non_retryable is not retryable
    assert error.message.endswith(f"answered {status}: nope")
    assert deltas.texts == []


@pytest.mark.parametrize(
    ("error_kind", "error_type", "retryable"),
    [
        ("overloaded_error", PROVIDER_UNAVAILABLE, True),
        ("rate_limit_error", PROVIDER_RATE_LIMITED, True),
        ("something_new_error", PROVIDER_UNAVAILABLE, True),
        ("invalid_request_error", PROVIDER_REJECTED, False),
    ],
)
def test_anthropic_error_event_inside_a_stream(
    error_kind: str, error_type: str, retryable: bool
) -> None:
    # What the SDK raises for `event: error` after the stream began with 200.
    body = {"type": "error", "error": {"type": error_kind, "message": "Overloaded"}}
    response = httpx2.Response(
        200, request=httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    )
    exc = anthropic.APIStatusError(str(body), response=response, body=body)
    spec = anthropic_spec("https://api.anthropic.com")

    error = map_anthropic_error(exc, spec, CLAUDE)

    assert error.type == error_type
    assert error.non_retryable is not retryable
    assert f"{error_kind} in the stream: Overloaded" in error.message


async def test_anthropic_without_on_delta_does_not_stream(
    fake_provider: FakeProviderServer,
) -> None:
    spec = anthropic_spec(fake_provider.anthropic_base_url)
    async with AnthropicProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec, model=CLAUDE))

    assert result.text == fake_provider.default_text
    assert fake_provider.requests[0].json.get("stream") in (None, False)
