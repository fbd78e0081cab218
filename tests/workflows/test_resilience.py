"""Issue 3's proof: runs that survive rate limits, outages and a dead primary, against the fake
provider over real HTTP, through the real SDK clients, on a real Temporal dev server."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.runs import get_run
from tests.fakes.provider_server import FakeProviderServer, FakeToolCall
from tests.support.runs import demo_spec, events_of, run_agent, start_agent
from workflows.agent_run import AgentRun
from workflows.types import AgentSpec, ModelChoice, ProviderSpec, RunResult

pytestmark = [pytest.mark.usefixtures("worker"), pytest.mark.timeout(120)]

KEY_ENV = "ORCH_TEST_RESILIENCE_KEY"
KEY = "sk-resilience-5e4d3c2b1a-never-shown"


@pytest.fixture(autouse=True)
def provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def provider(fake: FakeProviderServer, kind: str, name: str | None = None) -> ProviderSpec:
    base = fake.openai_base_url if kind == "openai" else fake.anthropic_base_url
    return ProviderSpec(name=name or f"fake-{kind}", kind=kind, base_url=base, api_key_env=KEY_ENV)


def calc_then_answer(fake: FakeProviderServer, wire: str | None = None) -> None:
    fake.queue_tool_calls([FakeToolCall("calculator", {"expression": "6*7"})], wire=wire)
    fake.queue_text("42", wire=wire)


async def run(client: Client, settings: Settings, spec: AgentSpec) -> tuple[str, RunResult]:
    return await run_agent(client, settings, spec, "6*7?")


def tool_results(seeded: Any, run_id: str) -> list[str]:
    return [b["text"] for _, b in TranscriptStore(seeded).read(run_id) if b["role"] == "tool"]


async def test_rate_limits_are_waited_out_as_the_provider_asks(
    fake_provider: FakeProviderServer, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    fake_provider.queue_fault(429, headers={"Retry-After": "2"})
    fake_provider.queue_fault(429, headers={"Retry-After": "2"})
    fake_provider.queue_text("done")
    spec = demo_spec(seeded, provider=provider(fake_provider, "openai"), model="m")
    _, result = await run(temporal_client, orch_settings, spec)
    assert result.answer == "done"
    times = [r.time for r in fake_provider.requests]
    assert len(times) == 3
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert all(gap >= 2.0 for gap in gaps), gaps


@pytest.mark.parametrize(
    ("kind", "status", "times"), [("openai", 500, 3), ("anthropic", 529, 2)], ids=["500", "529"]
)
async def test_server_errors_are_retried_and_no_tool_runs_twice(
    kind: str,
    status: int,
    times: int,
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    fake_provider.queue_tool_calls([FakeToolCall("calculator", {"expression": "6*7"})])
    for _ in range(times):
        fake_provider.queue_fault(status)
    fake_provider.queue_text("42")
    spec = demo_spec(seeded, provider=provider(fake_provider, kind), model="m")
    run_id, result = await run(temporal_client, orch_settings, spec)
    assert result.answer == "42"
    assert len(fake_provider.requests) == 2 + times
    assert tool_results(seeded, run_id) == ["42"]


async def test_a_provider_down_for_20_seconds_is_waited_out(
    fake_provider: FakeProviderServer, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    calc_then_answer(fake_provider)
    spec = demo_spec(seeded, provider=provider(fake_provider, "openai"), model="m")
    fake_provider.stop()  # connection refused from here on
    run_id = await start_agent(temporal_client, orch_settings, spec, "6*7?")
    await asyncio.sleep(20)
    fake_provider.start()
    result = await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()
    assert result.answer == "42"
    assert tool_results(seeded, run_id) == ["42"]


async def test_a_dead_primary_fails_over_to_the_fallback(
    fake_provider: FakeProviderServer, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    for _ in range(4):
        fake_provider.queue_fault(503, wire="openai")
    calc_then_answer(fake_provider, wire="anthropic")
    fallback = ModelChoice(provider=provider(fake_provider, "anthropic"), model="claude-backup")
    spec = demo_spec(
        seeded,
        provider=provider(fake_provider, "openai"),
        model="gpt-primary",
        fallbacks=(fallback,),
        model_max_attempts=2,
    )
    run_id, result = await run(temporal_client, orch_settings, spec)
    assert result.answer == "42" and result.tool_calls == 1
    # Two attempts on the primary, then the fallback for the rest of the run.
    assert [r.wire for r in fake_provider.requests] == [
        "openai",
        "openai",
        "anthropic",
        "anthropic",
    ]

    events = await events_of(temporal_client, run_id)
    switch = next(e for e in events if e["type"] == "llm.failover")
    assert switch["data"]["from"] == "fake-openai/gpt-primary"
    assert switch["data"]["to"] == "fake-anthropic/claude-backup"
    assert switch["data"]["error_type"] == "ProviderUnavailable"
    completed = [e["data"] for e in events if e["type"] == "llm.completed"]
    assert {c["provider"] for c in completed} == {"fake-anthropic"}

    # The history shows which model each step called.
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    summaries = [
        json.loads(e.user_metadata.summary.data)
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "llm_step"
    ]
    assert summaries == [
        "step 1: fake-openai/gpt-primary",
        "step 1: fake-anthropic/claude-backup",
        "step 2: fake-anthropic/claude-backup",
    ]


async def test_a_rejected_request_does_not_fail_over(
    fake_provider: FakeProviderServer, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    fake_provider.queue_fault(401, wire="openai")
    fallback = ModelChoice(provider=provider(fake_provider, "anthropic"), model="claude-backup")
    spec = demo_spec(
        seeded, provider=provider(fake_provider, "openai"), model="m", fallbacks=(fallback,)
    )
    with pytest.raises(WorkflowFailureError):
        await run(temporal_client, orch_settings, spec)
    assert [r.wire for r in fake_provider.requests] == ["openai"]


async def test_secrets_are_nowhere_in_logs_events_or_history(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API key, and a header value taken from the environment, in a run that succeeds
    after a retry and in one that fails on a rejected key."""
    caplog.set_level(logging.DEBUG)
    header_secret = "hdr-secret-77aa-never-shown"
    monkeypatch.setenv("ORCH_TEST_HEADER_SECRET", header_secret)
    base = provider(fake_provider, "openai")
    with_header = ProviderSpec(
        **{**base.__dict__, "headers": {"X-Tenant-Token": "${ORCH_TEST_HEADER_SECRET}"}}
    )
    spec = demo_spec(seeded, provider=with_header, model="m")

    fake_provider.queue_fault(500)
    calc_then_answer(fake_provider)
    ok_id, _ = await run(temporal_client, orch_settings, spec)
    fake_provider.queue_fault(401, message="bad key")
    failed_id = await start_agent(temporal_client, orch_settings, spec, "hi")
    with pytest.raises(WorkflowFailureError):
        await temporal_client.get_workflow_handle(failed_id).result()

    assert fake_provider.requests[0].headers["x-tenant-token"] == header_secret
    for run_id in (ok_id, failed_id):
        history = (await temporal_client.get_workflow_handle(run_id).fetch_history()).to_json()
        events = json.dumps(await events_of(temporal_client, run_id))
        for secret in (KEY, header_secret):
            assert secret not in history and secret not in events
    for secret in (KEY, header_secret):
        assert secret not in caplog.text


async def test_usage_and_cost_are_counted_per_step_and_run(
    fake_provider: FakeProviderServer, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    from tests.fakes.provider_server import FakeReply
    from workflows.types import ModelPrice

    fake_provider.queue_reply(
        FakeReply(
            tool_calls=(FakeToolCall("calculator", {"expression": "6*7"}),),
            input_tokens=1000,
            output_tokens=100,
            cached_input_tokens=400,
        )
    )
    fake_provider.queue_reply(FakeReply(text="42", input_tokens=2000, output_tokens=10))
    prices = (
        ModelPrice(
            model="gpt-x",
            input_usd_per_mtok=2.0,
            output_usd_per_mtok=8.0,
            cached_input_usd_per_mtok=0.5,
        ),
    )
    base = provider(fake_provider, "openai")
    spec = demo_spec(
        seeded,
        provider=ProviderSpec(**{**base.__dict__, "prices": prices}),
        model="gpt-x",
    )
    run_id, result = await run(temporal_client, orch_settings, spec)
    step1 = (600 * 2.0 + 400 * 0.5 + 100 * 8.0) / 1e6
    step2 = (2000 * 2.0 + 10 * 8.0) / 1e6
    assert result.usage.input_tokens == 3000 and result.usage.cached_input_tokens == 400
    assert result.usage.cost_usd == pytest.approx(step1 + step2)
    events = await events_of(temporal_client, run_id)
    costs = [e["data"]["usage"]["cost_usd"] for e in events if e["type"] == "llm.completed"]
    assert costs == [pytest.approx(step1), pytest.approx(step2)]
    assert events[-1]["data"]["usage"]["cost_usd"] == pytest.approx(step1 + step2)
    view = await get_run(temporal_client, run_id)
    assert view.usage["cost_usd"] == pytest.approx(step1 + step2)
