"""The OpenAI provider with the real SDK against the fake provider server."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openai.types.completion_usage import CompletionUsage, PromptTokensDetails

from activities.llm.openai_provider import OpenAIProvider, parse_usage
from tests.fakes import FakeProviderServer, FakeToolCall
from tests.support.llm import API_KEY, CALCULATOR, openai_spec, request
from workflows.types import ToolCall, TranscriptMessage, Usage


async def test_text_reply(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_text("Hello there.", input_tokens=12, output_tokens=3)
    async with OpenAIProvider(openai_spec(fake_provider.openai_base_url), API_KEY) as provider:
        result = await provider.complete(request(openai_spec(fake_provider.openai_base_url)))

    assert result.text == "Hello there."
    assert result.tool_calls == ()
    assert result.usage == Usage(input_tokens=12, output_tokens=3)
    assert result.model == "gpt-4o-mini"
    (sent,) = fake_provider.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.json["model"] == "gpt-4o-mini"
    assert sent.json["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
    ]
    assert sent.json["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "calculator",
                "description": "Evaluate arithmetic",
                "parameters": CALCULATOR.parameters,
            },
        }
    ]
    assert sent.json["max_completion_tokens"] == 1024
    assert "max_tokens" not in sent.json
    assert sent.json.get("stream") in (None, False)


async def test_tool_call_reply(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_tool_calls(
        [FakeToolCall("calculator", {"expression": "12*7"}, id="call_1")]
    )
    spec = openai_spec(fake_provider.openai_base_url)
    async with OpenAIProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec))

    assert result.text == ""
    assert result.tool_calls == (
        ToolCall(id="call_1", name="calculator", arguments={"expression": "12*7"}),
    )


async def test_two_parallel_tool_calls(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_tool_calls(
        [
            FakeToolCall("calculator", {"expression": "1+1"}, id="call_a"),
            FakeToolCall("calculator", {"expression": "2*3"}, id="call_b"),
        ],
        text="Let me compute both.",
    )
    spec = openai_spec(fake_provider.openai_base_url)
    async with OpenAIProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec))

    assert result.text == "Let me compute both."
    assert [c.id for c in result.tool_calls] == ["call_a", "call_b"]
    assert [c.arguments for c in result.tool_calls] == [
        {"expression": "1+1"},
        {"expression": "2*3"},
    ]


async def test_invalid_arguments_json_is_kept_raw(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_tool_calls([FakeToolCall("calculator", '{"expression": "1+', id="c")])
    spec = openai_spec(fake_provider.openai_base_url)
    async with OpenAIProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec))

    assert result.tool_calls[0].arguments == {"_raw": '{"expression": "1+'}


async def test_tool_round_trip_on_the_wire(fake_provider: FakeProviderServer) -> None:
    spec = openai_spec(fake_provider.openai_base_url)
    transcript = (
        TranscriptMessage(role="user", text="What is 12*7 and 2+2?"),
        TranscriptMessage(
            role="assistant",
            text="",
            tool_calls=(
                ToolCall(id="call_1", name="calculator", arguments={"expression": "12*7"}),
                ToolCall(id="call_2", name="calculator", arguments={"expression": "2+2"}),
            ),
        ),
        TranscriptMessage(role="tool", text="84", tool_call_id="call_1", tool_name="calculator"),
        TranscriptMessage(
            role="tool",
            text="error: boom",
            tool_call_id="call_2",
            tool_name="calculator",
            is_error=True,
        ),
    )
    fake_provider.queue_text("84 and I could not do 2+2.")
    async with OpenAIProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec, *transcript))

    assert result.text == "84 and I could not do 2+2."
    messages = fake_provider.requests[0].json["messages"]
    assert messages[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "calculator", "arguments": '{"expression": "12*7"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "calculator", "arguments": '{"expression": "2+2"}'},
            },
        ],
    }
    assert messages[3] == {"role": "tool", "tool_call_id": "call_1", "content": "84"}
    assert messages[4] == {"role": "tool", "tool_call_id": "call_2", "content": "error: boom"}


async def test_openai_compatible_sends_max_tokens(fake_provider: FakeProviderServer) -> None:
    spec = openai_spec(fake_provider.openai_base_url, kind="openai_compatible")
    async with OpenAIProvider(spec, "no-key") as provider:
        await provider.complete(request(spec, model="llama3", tools=()))

    sent = fake_provider.requests[0].json
    assert sent["max_tokens"] == 1024
    assert "max_completion_tokens" not in sent
    assert "tools" not in sent


async def test_cached_tokens_are_reported(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_text(
        "Cached.", input_tokens=1200, output_tokens=4, cached_input_tokens=1024
    )
    spec = openai_spec(fake_provider.openai_base_url)
    async with OpenAIProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec))

    assert result.usage == Usage(input_tokens=1200, output_tokens=4, cached_input_tokens=1024)


def test_usage_without_cache_details() -> None:
    # Many OpenAI-compatible servers send no prompt_tokens_details, or no usage at all.
    bare = CompletionUsage(prompt_tokens=30, completion_tokens=3, total_tokens=33)
    assert parse_usage(bare) == Usage(input_tokens=30, output_tokens=3)
    empty_details = CompletionUsage(
        prompt_tokens=30,
        completion_tokens=3,
        total_tokens=33,
        prompt_tokens_details=PromptTokensDetails(),
    )
    assert parse_usage(empty_details) == Usage(input_tokens=30, output_tokens=3)
    assert parse_usage(None) == Usage()


async def test_the_body_posted_is_the_one_the_sdks_create_would_send(
    fake_provider: FakeProviderServer,
) -> None:
    """The provider posts its JSON body itself (skipping `create`'s costly transform): the
    server gets what `chat.completions.create` sends, streamed or not, with tool calls, tool
    results and both token limits."""
    history = (
        TranscriptMessage(role="user", text="What is 12*7?"),
        TranscriptMessage(
            role="assistant",
            text="",
            tool_calls=(ToolCall(id="c1", name="calculator", arguments={"expression": "12*7"}),),
        ),
        TranscriptMessage(role="tool", text="84", tool_call_id="c1"),
    )
    for kind in ("openai", "openai_compatible"):
        spec = replace(openai_spec(fake_provider.openai_base_url), kind=kind)
        for streamed in (False, True):
            fake_provider.reset()
            fake_provider.queue_text("84.")
            fake_provider.queue_text("84.")
            sent = replace(request(spec, *history), temperature=0.2)
            if streamed:
                sent = replace(sent, on_delta=lambda _text: None)
            async with OpenAIProvider(spec, API_KEY) as provider:
                await provider.complete(sent)
                params = provider._params(sent)
                extra: dict[str, Any] = (
                    {"stream": True, "stream_options": {"include_usage": True}}
                    if streamed
                    else {"stream": False}
                )
                created = await provider._client.chat.completions.create(**params, **extra)
                if streamed:
                    async for _chunk in created:  # type: ignore[union-attr]
                        pass
            ours, sdks = fake_provider.requests
            # `create` also sends "stream": false for a plain call; leaving it out means the same.
            assert {"stream": False, **ours.json} == sdks.json, (kind, streamed)
            assert ours.headers["authorization"] == sdks.headers["authorization"]
