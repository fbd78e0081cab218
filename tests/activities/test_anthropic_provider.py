"""The Anthropic provider with the real SDK against the fake provider server."""

from __future__ import annotations

from anthropic.types import Usage as AnthropicUsage

from activities.llm.anthropic_provider import AnthropicProvider, parse_usage
from tests.fakes import FakeProviderServer, FakeReply, FakeToolCall
from tests.support.llm import API_KEY, CALCULATOR, anthropic_spec, request
from workflows.types import ToolCall, TranscriptMessage, Usage

MODEL = "claude-test-model"


async def test_text_reply_and_system_param(fake_provider: FakeProviderServer) -> None:
    spec = anthropic_spec(fake_provider.anthropic_base_url)
    fake_provider.queue_text("Hi!", input_tokens=20, output_tokens=2)
    async with AnthropicProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec, model=MODEL))

    assert result.text == "Hi!"
    assert result.tool_calls == ()
    assert result.usage == Usage(input_tokens=20, output_tokens=2)
    assert result.model == MODEL
    (sent,) = fake_provider.requests
    assert sent.path == "/v1/messages"
    assert sent.json["system"] == "You are terse."
    assert sent.json["max_tokens"] == 1024
    assert sent.json["messages"] == [{"role": "user", "content": "Hi"}]
    assert sent.json["tools"] == [
        {
            "name": "calculator",
            "description": "Evaluate arithmetic",
            "input_schema": CALCULATOR.parameters,
        }
    ]
    assert "temperature" not in sent.json
    assert API_KEY in (sent.headers.get("x-api-key", "") + sent.headers.get("authorization", ""))


async def test_no_system_param_without_a_prompt(fake_provider: FakeProviderServer) -> None:
    spec = anthropic_spec(fake_provider.anthropic_base_url)
    async with AnthropicProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec, model=MODEL, system_prompt="", tools=()))

    assert result.text == fake_provider.default_text
    sent = fake_provider.requests[0].json
    assert "system" not in sent
    assert "tools" not in sent


async def test_parallel_tool_calls(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_tool_calls(
        [
            FakeToolCall("calculator", {"expression": "12*7"}, id="toolu_1"),
            FakeToolCall("calculator", {"expression": "2+2"}, id="toolu_2"),
        ],
        text="Computing.",
        input_tokens=30,
        output_tokens=9,
    )
    spec = anthropic_spec(fake_provider.anthropic_base_url)
    async with AnthropicProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec, model=MODEL))

    assert result.text == "Computing."
    assert result.tool_calls == (
        ToolCall(id="toolu_1", name="calculator", arguments={"expression": "12*7"}),
        ToolCall(id="toolu_2", name="calculator", arguments={"expression": "2+2"}),
    )
    assert result.usage == Usage(input_tokens=30, output_tokens=9)


async def test_tool_results_merge_into_one_user_message(fake_provider: FakeProviderServer) -> None:
    spec = anthropic_spec(fake_provider.anthropic_base_url)
    transcript = (
        TranscriptMessage(role="user", text="What is 12*7 and 1/0?"),
        TranscriptMessage(
            role="assistant",
            text="Let me see.",
            tool_calls=(
                ToolCall(id="toolu_1", name="calculator", arguments={"expression": "12*7"}),
                ToolCall(id="toolu_2", name="calculator", arguments={"expression": "1/0"}),
            ),
        ),
        TranscriptMessage(role="tool", text="84", tool_call_id="toolu_1", tool_name="calculator"),
        TranscriptMessage(
            role="tool",
            text="error: division by zero",
            tool_call_id="toolu_2",
            tool_name="calculator",
            is_error=True,
        ),
    )
    fake_provider.queue_text("84; the other divides by zero.")
    async with AnthropicProvider(spec, API_KEY) as provider:
        await provider.complete(request(spec, *transcript, model=MODEL))

    messages = fake_provider.requests[0].json["messages"]
    assert messages == [
        {"role": "user", "content": "What is 12*7 and 1/0?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me see."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "calculator",
                    "input": {"expression": "12*7"},
                },
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "calculator",
                    "input": {"expression": "1/0"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "84"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": "error: division by zero",
                    "is_error": True,
                },
            ],
        },
    ]


async def test_cached_tokens_are_part_of_the_prompt(fake_provider: FakeProviderServer) -> None:
    # On the wire: input_tokens 200 (the rest), cache reads 1000, cache writes 300.
    fake_provider.queue_reply(
        FakeReply(
            text="Cached.",
            input_tokens=1500,
            output_tokens=7,
            cached_input_tokens=1000,
            cache_creation_input_tokens=300,
        )
    )
    spec = anthropic_spec(fake_provider.anthropic_base_url)
    async with AnthropicProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec, model=MODEL))

    assert result.usage == Usage(input_tokens=1500, output_tokens=7, cached_input_tokens=1000)


def test_usage_without_cache_fields() -> None:
    assert parse_usage(AnthropicUsage(input_tokens=40, output_tokens=2)) == Usage(
        input_tokens=40, output_tokens=2
    )
    assert parse_usage(
        AnthropicUsage(
            input_tokens=40,
            output_tokens=2,
            cache_read_input_tokens=None,
            cache_creation_input_tokens=60,
        )
    ) == Usage(input_tokens=100, output_tokens=2, cached_input_tokens=0)
