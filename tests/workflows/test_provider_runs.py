"""Whole runs against the fake provider over HTTP, through the real OpenAI and Anthropic SDKs."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.runs import get_run
from tests.fakes.provider_server import FakeProviderServer, FakeReply, FakeToolCall
from tests.support.runs import demo_spec, events_of, start_agent
from workflows.agent_run import AgentRun
from workflows.types import ProviderSpec

pytestmark = pytest.mark.usefixtures("worker")

KEY_ENV = "ORCH_TEST_PROVIDER_KEY"
KEY = "sk-test-9f8e7d6c5b4a-do-not-leak"


@pytest.fixture(autouse=True)
def provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def provider(fake: FakeProviderServer, kind: str) -> ProviderSpec:
    base = fake.openai_base_url if kind == "openai" else fake.anthropic_base_url
    return ProviderSpec(name=f"fake-{kind}", kind=kind, base_url=base, api_key_env=KEY_ENV)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_run_calls_the_model_and_the_tool_over_the_wire(
    kind: str,
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    fake_provider.queue_tool_calls(
        [FakeToolCall("calculator", {"expression": "12*7"}, id="call_1")], input_tokens=30
    )
    fake_provider.queue_text("12*7 is 84.", input_tokens=50, output_tokens=7)
    spec = demo_spec(seeded, provider=provider(fake_provider, kind), model=f"{kind}-model")
    run_id = await start_agent(temporal_client, orch_settings, spec, "What is 12*7?")
    result = await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()

    assert result.answer == "12*7 is 84." and result.tool_calls == 1
    assert (result.usage.input_tokens, result.usage.output_tokens) == (80, 12)
    first, second = fake_provider.requests
    assert first.json["model"] == f"{kind}-model"
    assert "12*7" in json.dumps(first.json["messages"])
    # The tool's result went back to the model in the wire's own shape.
    if kind == "openai":
        tool_msg = second.json["messages"][-1]
        assert tool_msg == {"role": "tool", "tool_call_id": "call_1", "content": "84"}
        assert first.headers["authorization"] == f"Bearer {KEY}"
    else:
        block = second.json["messages"][-1]["content"][0]
        assert block["type"] == "tool_result" and block["tool_use_id"] == "call_1"
        sent = first.headers.get("x-api-key") or first.headers["authorization"]
        assert sent in (KEY, f"Bearer {KEY}")

    # The key is nowhere in what the run left behind.
    events = await events_of(temporal_client, run_id)
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    assert KEY not in json.dumps(events) and KEY not in history.to_json()


async def test_provider_outage_is_retried_by_temporal_without_rerunning_tools(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    fake_provider.queue_tool_calls([FakeToolCall("calculator", {"expression": "2+2"})])
    fake_provider.queue_fault(500)
    fake_provider.queue_fault(503)
    fake_provider.queue_text("4")
    spec = demo_spec(seeded, provider=provider(fake_provider, "openai"), model="m")
    run_id = await start_agent(temporal_client, orch_settings, spec, "2+2?")
    result = await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()

    assert result.answer == "4"
    assert len(fake_provider.requests) == 4  # one per attempt: the SDK itself never retries
    tool_messages = [b for _, b in TranscriptStore(seeded).read(run_id) if b["role"] == "tool"]
    assert len(tool_messages) == 1


async def test_each_retried_model_call_is_announced_on_the_stream_before_its_retry(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    fake_provider.queue_fault(503)
    fake_provider.queue_fault(429, headers={"Retry-After": "1.5"})
    fake_provider.queue_text("4")
    spec = demo_spec(seeded, provider=provider(fake_provider, "openai"), model="m")
    run_id = await start_agent(temporal_client, orch_settings, spec, "2+2?")
    events = await events_of(temporal_client, run_id)

    retrying = [e for e in events if e["type"] == "llm.retrying"]
    assert [e["data"]["attempt"] for e in retrying] == [2, 3]
    first, second = (e["data"] for e in retrying)
    assert "answered 503" in first["error"] and first["error_type"] == "ProviderUnavailable"
    assert first["retry_in_s"] == 1.0  # the workflow's retry policy: its initial interval
    assert "answered 429" in second["error"] and second["error_type"] == "ProviderRateLimited"
    assert second["retry_in_s"] == 1.5  # the provider's Retry-After
    assert all(e["step"] == 1 for e in retrying)
    kinds = [e["type"] for e in events]
    assert kinds.index("llm.retrying") < kinds.index("llm.completed")
    assert KEY not in json.dumps(retrying)


async def test_a_model_call_that_is_not_retried_announces_no_retry(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    fake_provider.queue_fault(503)
    spec = demo_spec(
        seeded, provider=provider(fake_provider, "openai"), model="m", model_max_attempts=1
    )
    run_id = await start_agent(temporal_client, orch_settings, spec, "hi")
    events = await events_of(temporal_client, run_id)
    assert events[-1]["type"] == "run.failed"
    assert "llm.retrying" not in [e["type"] for e in events]


async def test_a_rejected_key_fails_the_run_at_once_naming_provider_and_status(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    fake_provider.queue_fault(401, message="invalid api key")
    spec = demo_spec(seeded, provider=provider(fake_provider, "anthropic"), model="claude-x")
    run_id = await start_agent(temporal_client, orch_settings, spec, "hi")
    with pytest.raises(WorkflowFailureError):
        await temporal_client.get_workflow_handle(run_id).result()

    assert len(fake_provider.requests) == 1
    failed = (await events_of(temporal_client, run_id))[-1]
    assert failed["type"] == "run.failed" and failed["data"]["error_type"] == "ProviderRejected"
    view = await get_run(temporal_client, run_id)
    assert view.status == "failed"
    assert view.error is not None
    assert "fake-anthropic" in view.error and "401" in view.error and "claude-x" in view.error
    assert KEY not in view.error


async def test_a_run_in_progress_reports_its_state(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    fake_provider.queue_tool_calls([FakeToolCall("calculator", {"expression": "1+1"})])
    fake_provider.queue_reply(FakeReply(text="two", delay=3.0))
    spec = demo_spec(seeded, provider=provider(fake_provider, "openai"), model="m")
    run_id = await start_agent(temporal_client, orch_settings, spec, "1+1?")
    for _ in range(100):
        view = await get_run(temporal_client, run_id)
        if view.steps == 2:  # in the second model call, which takes 3 s
            break
        await asyncio.sleep(0.05)
    assert view.status == "running" and view.agent == "demo"
    assert view.steps == 2 and view.tool_calls == 1 and view.closed_at is None

    await temporal_client.get_workflow_handle(run_id).result()
    done = await get_run(temporal_client, run_id)
    assert done.status == "completed" and done.answer == "two"


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_the_answer_streams_as_deltas_before_it_completes(
    kind: str,
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    fake_provider.queue_tool_calls([FakeToolCall("calculator", {"expression": "12*7"})])
    answer = "Twelve times seven is 84, as the calculator says."
    fake_provider.queue_reply(FakeReply(text=answer, chunk_delay=0.05))
    spec = demo_spec(seeded, provider=provider(fake_provider, kind), model="m")
    run_id = await start_agent(temporal_client, orch_settings, spec, "What is 12*7?")
    # Followed while it runs: a run nobody follows sends no deltas (test_deltas_when_watched.py).
    events = await events_of(temporal_client, run_id, deltas=True)
    result = await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()

    types = [e["type"] for e in events]
    deltas = [e["data"] for e in events if e["type"] == "llm.delta"]
    assert len(deltas) > 1 and "".join(d["text"] for d in deltas) == result.answer == answer
    assert all(d["attempt"] == 1 for d in deltas)
    assert all(e["step"] == 2 for e in events if e["type"] == "llm.delta")
    # Every delta comes after the tool's result and before the answer's llm.completed.
    completed = len(types) - 1 - types[::-1].index("llm.completed")
    first, last = types.index("llm.delta"), completed - 1
    assert first > types.index("tool.completed") and types[last] == "llm.delta"
    assert fake_provider.requests[-1].json.get("stream") is True
