"""Long runs continue-as-new when Temporal suggests it, losing no step, message or event."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from config_store.models import Run
from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.client import SEARCH_ATTRIBUTES
from temporal.devserver import dev_server_extra_args, temporal_binary
from temporal.runs import get_run
from temporal.stream import run_events
from temporal.worker import build_worker
from tests.fakes.provider_server import FakeProviderServer, FakeToolCall
from tests.support.auth import AUTH
from tests.support.runs import (
    calculator_steps,
    chain_inputs,
    demo_spec,
    events_of,
    local_activities,
    run_agent,
    start_agent,
    start_recorded_agent,
)
from tests.support.sse import read_events
from workflows.agent_run import AgentRun
from workflows.carried_stream import CARRY_LIMIT, PUBLISH_SIGNAL
from workflows.types import ProviderSpec

pytestmark = pytest.mark.timeout(180)


@pytest_asyncio.fixture(scope="module")
async def small_history_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server that suggests continue-as-new after 40 history events (default: 4096)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=[
            *dev_server_extra_args(),
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=40",
        ],
    )
    yield env
    await env.shutdown()


async def test_a_long_run_hands_over_its_state_and_stream(
    small_history_env: WorkflowEnvironment, orch_settings: Settings, seeded: Any
) -> None:
    client = small_history_env.client
    steps = 20
    spec = demo_spec(seeded, script=calculator_steps(steps), max_steps=steps)
    async with build_worker(client, orch_settings, TranscriptStore(seeded)):
        run_id, result = await run_agent(client, orch_settings, spec, "go")
        events = await events_of(client, run_id)
        view = await get_run(client, run_id)

    runs = [w async for w in client.list_workflows(f"WorkflowId = '{run_id}'")]
    statuses = [w.status for w in runs]
    assert statuses.count(WorkflowExecutionStatus.CONTINUED_AS_NEW) >= 2, statuses

    assert result.status == "completed" and result.answer == "done"
    assert result.steps == steps and result.tool_calls == steps - 1
    assert result.usage.total_tokens > 0
    assert view.status == "completed" and view.steps == steps

    bodies = [body for _, body in TranscriptStore(seeded).read(run_id)]
    assert len(bodies) == 1 + 2 * (steps - 1) + 1
    assert [b["role"] for b in bodies[:3]] == ["user", "assistant", "tool"]

    types = [e["type"] for e in events]
    assert types[0] == "run.started" and types[-1] == "run.completed"
    assert types.count("run.started") == 1
    assert types.count("llm.completed") == steps
    assert types.count("tool.completed") == steps - 1


@pytest.fixture
def temporal_client(small_history_env: WorkflowEnvironment) -> Client:
    """The worker and the API of this module's fixtures use the small-history server."""
    return small_history_env.client


@pytest.fixture
def temporal_address(small_history_env: WorkflowEnvironment) -> str:
    return small_history_env.client.service_client.config.target_host


@pytest.mark.usefixtures("worker")
async def test_each_execution_carries_only_the_events_of_the_one_before_and_readers_get_all(
    small_history_env: WorkflowEnvironment, orch_settings: Settings, seeded: Any, api_url: str
) -> None:
    client = small_history_env.client
    steps = 24
    spec = demo_spec(seeded, script=calculator_steps(steps), max_steps=steps)
    run_id, result = await run_agent(client, orch_settings, spec, "go")
    assert result.status == "completed" and result.steps == steps
    total = 2 + 2 * steps + 2 * (steps - 1)  # run.started/completed, step+llm, tool started+done

    # The stream is handed on in pieces that follow each other: execution k+1's input holds
    # exactly the events execution k published, none from before.
    states = [i["stream_state"] for i in [i for _, i in await chain_inputs(client, run_id)]]
    assert states[0] is None and len(states) >= 4, len(states)
    next_base = 0
    for state in states[1:]:
        assert state["base_offset"] == next_base, [s and s["base_offset"] for s in states]
        assert 0 < len(state["log"]) < total
        next_base += len(state["log"])

    # Every reader gets every event once, from 0: the API's SSE (late, after the run ended;
    # and resumed with Last-Event-ID in an early execution's events) and the stream reader.
    async with httpx.AsyncClient(timeout=30) as http:
        url = f"{api_url}/v1/runs/{run_id}/events"
        events = await read_events(http, url, headers=AUTH)
        resumed = await read_events(http, url, headers={**AUTH, "Last-Event-ID": "3"})
    assert [int(e.id) for e in events if e.id is not None] == list(range(total))
    assert [e.data["type"] for e in events].count("step.started") == steps
    assert [int(e.id) for e in resumed if e.id is not None] == list(range(4, total))
    assert [e.data for e in resumed] == [e.data for e in events[4:]]
    read = [item.offset async for item in run_events(client, run_id)]
    assert read == list(range(total))


async def test_an_execution_whose_events_pass_the_carry_limit_continues_as_new(
    orch_settings: Settings,
    seeded: Any,
    fake_provider: FakeProviderServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Long streamed answers: far fewer history events than Temporal's suggestion needs, but
    events (the answers and their token deltas) enough to fill the successor's input: the run
    continues as new on its events' size."""
    monkeypatch.setenv("ORCH_TEST_PROVIDER_KEY", "sk-test")
    steps = 8
    long_text = "x" * 100_000
    for _ in range(steps - 1):
        call = FakeToolCall(name="calculator", arguments={"expression": "6*7"})
        fake_provider.queue_tool_calls([call], text=long_text)
    fake_provider.queue_text("done")
    spec = demo_spec(
        seeded,
        provider=ProviderSpec(
            name="fake-openai",
            kind="openai",
            base_url=fake_provider.openai_base_url,
            api_key_env="ORCH_TEST_PROVIDER_KEY",
        ),
        model="openai-model",
        max_steps=steps,
    )
    # A dev server of the default limits: it would not suggest continue-as-new here.
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=dev_server_extra_args(),
    )
    try:
        async with build_worker(env.client, orch_settings, TranscriptStore(seeded)):
            # Followed while it runs, so its token deltas are sent (nobody watching, none are).
            run_id = await start_agent(env.client, orch_settings, spec, "go")
            items = [item async for item in run_events(env.client, run_id)]
            result = await env.client.get_workflow_handle_for(AgentRun.run, run_id).result()
        assert result.status == "completed" and result.steps == steps
        inputs = [i for _, i in await chain_inputs(env.client, run_id)]
        assert len(inputs) >= 2, len(inputs)
        for carried in inputs[1:]:
            size = len(json.dumps(carried["stream_state"]))
            assert CARRY_LIMIT <= size < CARRY_LIMIT + 500_000, size
        assert [item.offset for item in items] == list(range(len(items)))
        kinds = [item.event["type"] for item in items]
        assert kinds.count("llm.completed") == steps and kinds[-1] == "run.completed"
        assert "llm.delta" in kinds  # counted too: they arrive by signal
    finally:
        await env.shutdown()


def test_the_stream_publish_signal_is_the_one_the_meter_watches() -> None:
    from temporalio.contrib.workflow_streams import _stream

    assert _stream._PUBLISH_SIGNAL == PUBLISH_SIGNAL


async def test_only_the_final_execution_records_the_outcome(
    small_history_env: WorkflowEnvironment, orch_settings: Settings, seeded: Any
) -> None:
    client = small_history_env.client
    steps = 12
    spec = demo_spec(seeded, script=calculator_steps(steps), max_steps=steps)
    async with build_worker(client, orch_settings, TranscriptStore(seeded)):
        run_id = await start_recorded_agent(client, orch_settings, seeded, spec, "go")
        result = await client.get_workflow_handle_for(AgentRun.run, run_id).result()
    chain = await chain_inputs(client, run_id)
    assert len(chain) >= 2
    for execution, _ in chain:
        history = await client.get_workflow_handle(run_id, run_id=execution).fetch_history()
        recorded = "record_outcome" in local_activities(history)
        assert recorded == (execution == chain[-1][0]), execution
    with seeded() as session:
        row = session.get(Run, run_id)
        assert row is not None
        assert (row.status, row.steps, row.total_tokens) == (
            "completed",
            steps,
            result.usage.total_tokens,
        )
