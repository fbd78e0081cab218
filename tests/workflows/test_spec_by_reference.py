"""History bytes per step do not depend on the agent's size: activity inputs carry a reference
to the agent's definition (workflows/spec_ref.py), never the definition itself."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.specs import AgentSpecs
from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.worker import build_worker
from tests.support.runs import demo_spec, run_agent
from workflows.types import AgentSpec, ScriptTurn, ToolCall

STEPS = 12
# Bytes of history per step, whatever the agent's size: what Temporal itself writes for one model
# call and one local calculator call, and their small inputs and results (1,495 and 1,497 bytes
# measured here, with payloads that leave out default fields). With the whole spec in every input
# it was 3.5 KB (1 tool) and 23 KB (20 tools). The limit is issue 10's target, 1.5 KB.
PER_STEP_LIMIT = 1536


def sized_agent(seeded: Any, tools: int, prompt_bytes: int) -> AgentSpec:
    """The demo agent calling its calculator STEPS - 1 times, then answering; with `tools`
    tools (the calculator and copies of it under other names) and a system prompt of
    `prompt_bytes`."""
    spec = demo_spec(seeded)
    calculator = next(t for t in spec.tools if t.name == "calculator")
    extra = tuple(
        replace(
            calculator,
            name=f"calculator_{i}",
            description=f"Copy {i} of the calculator. " + "Evaluates arithmetic. " * 10,
        )
        for i in range(tools - 1)
    )
    call = ToolCall(id="c", name="calculator", arguments={"expression": "6*7"})
    script = (ScriptTurn(tool_calls=(call,)),) * (STEPS - 1) + (ScriptTurn(text="done"),)
    return replace(
        spec,
        tools=(calculator, *extra),
        system_prompt=("You are a careful assistant. " * (prompt_bytes // 29 + 1))[:prompt_bytes],
        script=script,
        max_steps=STEPS,
    )


async def per_step_bytes(client: Client, settings: Settings, spec: AgentSpec) -> float:
    """History bytes per step of one run of `spec`, the run's input (which holds the agent's
    definition, once per run) left out: the server's `historySizeBytes`."""
    run_id, result = await run_agent(client, settings, spec, "go")
    assert result.status == "completed" and result.steps == STEPS
    handle = client.get_workflow_handle(run_id)
    described = await handle.describe()
    total = described.raw_description.workflow_execution_info.history_size_bytes
    history = await handle.fetch_history()
    started = next(
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    )
    return (total - started.ByteSize()) / STEPS


@pytest.mark.usefixtures("worker")
async def test_history_per_step_does_not_grow_with_the_agent(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    large = await per_step_bytes(
        temporal_client, orch_settings, sized_agent(seeded, tools=20, prompt_bytes=8192)
    )
    small = await per_step_bytes(
        temporal_client, orch_settings, sized_agent(seeded, tools=1, prompt_bytes=100)
    )
    print(f"bytes per step: 20 tools, 8 KB prompt {large:.0f}; 1 tool {small:.0f}")  # noqa: T201
    assert large <= PER_STEP_LIMIT, (large, small)
    assert large - small < 100, (large, small)


async def test_a_worker_reads_a_spec_once_across_steps_and_runs(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    specs = AgentSpecs()
    spec = sized_agent(seeded, tools=3, prompt_bytes=500)
    async with build_worker(temporal_client, orch_settings, TranscriptStore(seeded), specs=specs):
        for _ in range(2):
            _, result = await run_agent(temporal_client, orch_settings, spec, "go")
            assert result.status == "completed" and result.tool_calls == STEPS - 1
        assert specs.reads == 1
        other = replace(spec, system_prompt="another prompt")
        _, result = await run_agent(temporal_client, orch_settings, other, "go")
        assert result.status == "completed"
        assert specs.reads == 2


@pytest.mark.usefixtures("worker")
async def test_a_run_of_200_steps_stays_under_500_kb(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    steps = 200
    call = ToolCall(id="c", name="calculator", arguments={"expression": "6*7"})
    script = (ScriptTurn(tool_calls=(call,)),) * (steps - 1) + (ScriptTurn(text="done"),)
    spec = sized_agent(seeded, tools=20, prompt_bytes=8192)
    run_id, result = await run_agent(
        temporal_client, orch_settings, replace(spec, script=script, max_steps=steps), "go"
    )
    assert result.status == "completed" and result.steps == steps
    described = await temporal_client.get_workflow_handle(run_id).describe()
    total = described.raw_description.workflow_execution_info.history_size_bytes
    print(f"history of {steps} steps: {total} bytes")  # noqa: T201
    assert total < 500_000, total
