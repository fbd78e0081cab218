"""A long run: 500 steps (a calculator call each, then an answer) on the default dev server,
watched live over SSE. It continues as new as Temporal suggests and keeps every promise across
the chain: each event once with contiguous offsets, the usage of every model call counted once,
the whole transcript, and no single run's history near Temporal's limits.

`ORCH_DRILL_LONG_STEPS` lowers the step count (e.g. for a slow CI machine); the figures of the
full run are in docs/operations.md ("Drills").
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.client import SEARCH_ATTRIBUTES
from temporal.devserver import dev_server_extra_args, temporal_binary
from temporal.stream import run_events
from temporal.worker import build_worker
from tests.support.auth import AUTH
from tests.support.runs import calculator_steps, demo_spec, start_agent
from tests.support.sse import read_events
from workflows.agent_run import AgentRun
from workflows.carried_stream import CARRY_LIMIT
from workflows.types import ScriptTurn, ToolCall, Usage

pytestmark = pytest.mark.timeout(150)

STEPS = int(os.environ.get("ORCH_DRILL_LONG_STEPS", "500"))
HISTORY_LIMIT = 5 * 1024 * 1024  # bytes, per run of the chain
# Temporal's default limit on one payload (`limit.blobSize.error`): a continue-as-new whose
# input passes it is refused.
BLOB_LIMIT = 2 * 1024 * 1024


@dataclass(frozen=True)
class ChainRun:
    status: WorkflowExecutionStatus
    history_bytes: int  # all its events
    input_bytes: int  # its first event: the input, which a continue-as-new carries
    events: int


async def chain_of(client: Client, workflow_id: str) -> list[ChainRun]:
    """Every run of the workflow, oldest first."""
    found = []
    async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        history = await client.get_workflow_handle(workflow_id, run_id=w.run_id).fetch_history()
        assert w.status is not None
        run = ChainRun(
            status=w.status,
            history_bytes=sum(event.ByteSize() for event in history.events),
            input_bytes=history.events[0].ByteSize(),
            events=len(history.events),
        )
        found.append((w.start_time, run))
    found.sort(key=lambda pair: pair[0])
    return [run for _, run in found]


async def test_a_500_step_run_continues_as_new_and_keeps_its_stream_usage_and_transcript(
    temporal_client: Client, orch_settings: Settings, seeded: Any, api_url: str
) -> None:
    spec = demo_spec(seeded, script=calculator_steps(STEPS, call_id=""), max_steps=STEPS)
    began = time.monotonic()
    run_id = await start_agent(temporal_client, orch_settings, spec, "go")
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=60)) as http:
        watching = asyncio.create_task(
            read_events(http, f"{api_url}/v1/runs/{run_id}/events", headers=AUTH)
        )
        result = await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()
        took = time.monotonic() - began
        events = await asyncio.wait_for(watching, 30)

    assert result.status == "completed" and result.answer == "done"
    assert result.steps == STEPS and result.tool_calls == STEPS - 1

    # The stream: every event once, offsets 0..n-1 in order, across every continue-as-new.
    offsets = [int(e.id) for e in events if e.id is not None]
    assert offsets == list(range(len(events))), offsets[:5]
    types = [e.data["type"] for e in events]
    assert types.count("run.started") == 1 and types[0] == "run.started"
    assert types[-1] == "run.completed" and types.count("run.completed") == 1
    assert types.count("step.started") == STEPS
    assert types.count("llm.completed") == STEPS
    assert types.count("tool.started") == types.count("tool.completed") == STEPS - 1
    assert len(events) == 2 + 2 * STEPS + 2 * (STEPS - 1)

    # Usage: the run's total is the sum of its model calls, each counted once.
    summed = Usage()
    for event in events:
        if event.data["type"] == "llm.completed":
            used = event.data["data"]["usage"]
            summed += Usage(input_tokens=used["input_tokens"], output_tokens=used["output_tokens"])
    assert result.usage.input_tokens == summed.input_tokens > 0
    assert result.usage.output_tokens == summed.output_tokens
    assert events[-1].data["data"]["usage"]["total_tokens"] == result.usage.total_tokens

    # The transcript: the input, an answer and a tool result a step, the last answer; no gap.
    entries = TranscriptStore(seeded).read(run_id)
    assert [seq for seq, _ in entries] == list(range(1 + 2 * (STEPS - 1) + 1))
    roles = [body["role"] for _, body in entries]
    assert roles == ["user"] + ["assistant", "tool"] * (STEPS - 1) + ["assistant"]

    # Each run of the chain stays far below Temporal's history limits.
    chain = await chain_of(temporal_client, run_id)
    statuses = [run.status for run in chain]
    assert statuses[-1] == WorkflowExecutionStatus.COMPLETED
    assert set(statuses[:-1]) <= {WorkflowExecutionStatus.CONTINUED_AS_NEW}
    sizes = [run.history_bytes for run in chain]
    inputs = [run.input_bytes for run in chain]
    largest = max(sizes)
    print(
        f"\nlong run: {STEPS} steps in {took:.1f} s ({1000 * took / STEPS:.0f} ms/step), "
        f"{len(chain)} runs in the chain, {len(events)} events; per run: history bytes {sizes}, "
        f"history events {[run.events for run in chain]}, input bytes {inputs}; "
        f"largest history {largest / 1e6:.2f} MB"
    )
    assert largest < HISTORY_LIMIT, sizes
    # Each input carries the events of one execution, not the whole stream: at most the carry
    # limit (one step's events past it), beside the spec and the state.
    assert max(inputs) < CARRY_LIMIT + 200_000 < BLOB_LIMIT, inputs


async def test_a_run_whose_carried_stream_outgrows_the_payload_limit_still_completes(
    orch_settings: Settings, seeded: Any
) -> None:
    """Temporal's payload limit, scaled down: 60 KB, and continue-as-new suggested every 170
    history events (about 28 steps: a calculator step writes six). A stream carried whole would
    pass the limit after some 30 steps of 60 and the run would stick on PayloadsTooLarge; each
    execution hands on only its own events, so the run completes and a reader still gets every
    event from offset 0."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=[
            *dev_server_extra_args(),
            *("--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=170"),
            *("--dynamic-config-value", "limit.blobSize.warn=50000"),
            *("--dynamic-config-value", "limit.blobSize.error=60000"),
        ],
    )
    try:
        client = env.client
        calc = ToolCall(id="", name="calculator", arguments={"expression": "6*7"})
        steps = 60
        script = (ScriptTurn(tool_calls=(calc,)),) * (steps - 1) + (ScriptTurn(text="done"),)
        spec = demo_spec(seeded, script=script, max_steps=steps)
        async with build_worker(client, orch_settings, TranscriptStore(seeded)):
            run_id = await start_agent(client, orch_settings, spec, "go")
            handle = client.get_workflow_handle_for(AgentRun.run, run_id)
            try:
                result = await asyncio.wait_for(handle.result(), 15)
            except TimeoutError:
                stored = len(TranscriptStore(seeded).read(run_id))
                raise AssertionError(f"stuck after {stored} transcript entries") from None
            offsets = [item.offset async for item in run_events(client, run_id)]
        assert result.status == "completed" and result.steps == steps
        assert offsets == list(range(2 + 2 * steps + 2 * (steps - 1)))
        chain = await chain_of(client, run_id)
        assert len(chain) >= 3 and max(run.input_bytes for run in chain) < 60_000
    finally:
        await env.shutdown()
