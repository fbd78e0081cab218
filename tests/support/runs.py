"""Start AgentRun workflows the way the API does, and read what they did."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter

from config_store.agents import create_agent, snapshot_agent
from config_store.runs import insert_run
from config_store.specs import AgentIn, ToolIn
from core.settings import Settings
from services.tools import create_tool
from temporal.runs import start_run
from temporal.stream import run_events
from tests.support.provider import dead_provider
from workflows import patches
from workflows.agent_run import AgentRun
from workflows.types import AgentSpec, RunInput, RunResult, ScriptTurn, ToolCall


def demo_spec(seeded: sessionmaker[Session], **changes: Any) -> AgentSpec:
    """The example config's `demo` agent, snapshotted, with `changes` applied."""
    with seeded() as session:
        spec = snapshot_agent(session, "demo")
    return replace(spec, **changes)


def define_subagent(
    seeded: sessionmaker[Session],
    child: dict[str, Any],
    parent: dict[str, Any],
    parameters: dict[str, Any] | None = None,
) -> AgentSpec:
    """A child agent, an agent tool calling it, and a parent agent using the tool."""
    suffix = uuid.uuid4().hex[:8]
    child_name, tool_name, parent_name = f"child{suffix}", f"ask{suffix}", f"boss{suffix}"
    with seeded.begin() as session:
        create_agent(session, child_name, AgentIn.model_validate({"provider": "offline", **child}))
        tool = ToolIn(kind="agent", config={"agent": child_name}, parameters=parameters)
        create_tool(session, tool_name, tool)
        script = [
            {
                "tool_calls": [
                    {"id": "sub1", "name": tool_name, "arguments": {"input": "find the total"}}
                ]
            },
            {"text": "the child said so"},
        ]
        create_agent(
            session,
            parent_name,
            AgentIn.model_validate(
                {"provider": "offline", "tools": [tool_name], "script": script, **parent}
            ),
        )
    with seeded() as session:
        return snapshot_agent(session, parent_name)


def stuck_spec(
    seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, **changes: Any
) -> AgentSpec:
    """The `demo` agent on a provider nothing answers (`dead_provider`): its run stays in its
    first step, the model call retried, until it is cancelled or terminated."""
    return demo_spec(seeded, provider=dead_provider(monkeypatch), model="m", **changes)


def guarded(spec: AgentSpec, **changes: Any) -> AgentSpec:
    """The demo agent with its calculator behind an approval."""
    tools = tuple(
        replace(t, requires_approval=True) if t.name == "calculator" else t for t in spec.tools
    )
    return replace(spec, tools=tools, **changes)


async def start_agent(
    client: Client, settings: Settings, spec: AgentSpec, text: str, *, follow: bool = False
) -> str:
    """Start a run of `spec` on `text` under a new run id; return the id. `follow`: as a caller
    that follows the run's stream from its start (`"tokens": true`)."""
    run_id = f"run-{uuid.uuid4().hex}"
    await start_run(
        client,
        task_queue=settings.temporal_task_queue,
        run_id=run_id,
        agent=spec,
        input=text,
        follow=follow,
    )
    return run_id


async def start_recorded_agent(
    client: Client, settings: Settings, seeded: sessionmaker[Session], spec: AgentSpec, text: str
) -> str:
    """`start_agent`, with the run's row in the runs table first, as the API writes it."""
    run_id = f"run-{uuid.uuid4().hex}"
    with seeded.begin() as session:
        insert_run(session, run_id, spec.name, spec.version, None, text)
    await start_run(
        client, task_queue=settings.temporal_task_queue, run_id=run_id, agent=spec, input=text
    )
    return run_id


async def run_agent(
    client: Client, settings: Settings, spec: AgentSpec, text: str
) -> tuple[str, RunResult]:
    """Start a run and wait for its result."""
    run_id = await start_agent(client, settings, spec, text)
    result = await client.get_workflow_handle_for(AgentRun.run, run_id).result()
    return run_id, result


async def events_of(client: Client, run_id: str, *, deltas: bool = False) -> list[dict[str, Any]]:
    """The run's events, read from its stream until the terminal one; token deltas only when
    asked for (they are best-effort and come in however many pieces the model sent)."""
    events: list[dict[str, Any]] = []
    async for item in run_events(client, run_id):
        if deltas or item.event["type"] != "llm.delta":
            events.append(item.event)
        if item.event["type"] in ("run.completed", "run.failed", "run.stopped", "run.cancelled"):
            break
    return events


def local_activities(history: WorkflowHistory) -> list[str]:
    """The activity types of the local activities in `history` (their markers), in order."""
    types = []
    for event in history.events:
        marker = event.marker_recorded_event_attributes
        if event.HasField("marker_recorded_event_attributes") and (
            marker.marker_name == "core_local_activity"
        ):
            types.append(str(json.loads(marker.details["data"].payloads[0].data)["activity_type"]))
    return types


def patch_markers(history: WorkflowHistory, *, implied: bool = True) -> list[str]:
    """The ids of the `workflow.patched` markers in `history`, in order; a baseline's marker is
    followed by the changes it stands for (workflows/patches.py), as a run started now has them,
    unless `implied` is False."""
    ids = []
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            details = event.marker_recorded_event_attributes.details
            if "patch-data" in details:
                ids.append(str(json.loads(details["patch-data"].payloads[0].data)["id"]))
                stands_for = dict(patches.BASELINES).get(ids[-1], frozenset())
                if implied:
                    ids += sorted(stands_for)
    return ids


def calculator_steps(
    steps: int, *, text: str = "working", call_id: str = "c"
) -> tuple[ScriptTurn, ...]:
    """A script of `steps` model calls: a calculator call (6*7) with `text` each, then "done"."""
    calc = ToolCall(id=call_id, name="calculator", arguments={"expression": "6*7"})
    return (ScriptTurn(text=text, tool_calls=(calc,)),) * (steps - 1) + (ScriptTurn(text="done"),)


async def chain_inputs(client: Client, workflow_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(run id, input as RunInput JSON, every field written) of every execution of the
    workflow, oldest first, by each one's link to the execution it continued. (Workers leave
    out the fields at their defaults, temporal/converter.py: read and written again here with
    Temporal's default converter, every field is there.)"""
    found: list[tuple[str, dict[str, Any]]] = []
    execution = (await client.get_workflow_handle(workflow_id).describe()).run_id
    while execution:
        history = await client.get_workflow_handle(workflow_id, run_id=execution).fetch_history()
        attributes = history.events[0].workflow_execution_started_event_attributes
        [value] = await client.data_converter.decode(attributes.input.payloads, [RunInput])
        full = DataConverter.default.payload_converter.to_payloads([value])[0]
        found.append((execution, json.loads(full.data)))
        execution = attributes.continued_execution_run_id
    return found[::-1]
