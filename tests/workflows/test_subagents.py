"""An agent as another agent's tool: a child workflow whose events reach the parent's stream and
whose usage counts against the parent's budget."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.workflow_streams import WorkflowStreamClient

from config_store.models import Run
from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.runs import get_run
from temporal.visibility import list_runs
from tests.support.runs import define_subagent, events_of, run_agent, start_agent
from workflows.agent_run import AgentRun
from workflows.types import AGENT_NAME, EVENTS_TOPIC, RunResult

pytestmark = pytest.mark.usefixtures("worker")


def _child_id(events: list[dict[str, Any]]) -> str:
    started = [e for e in events if e["type"] == "subagent.started"]
    assert len(started) == 1
    return str(started[0]["data"]["run_id"])


async def test_a_sub_agent_runs_as_a_child_workflow_and_reports_to_the_parent(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    child_script = [
        {"tool_calls": [{"id": "m", "name": "calculator", "arguments": {"expression": "40+2"}}]},
        {"text": "the total is 42"},
    ]
    spec = define_subagent(
        seeded,
        {"tools": ["calculator"], "script": child_script, "system_prompt": "You add up."},
        {},
    )
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "delegate")

    assert result.status == "completed" and result.answer == "the child said so"
    events = await events_of(temporal_client, run_id)
    child_id = _child_id(events)
    # Temporal knows it as the parent's child workflow (the Web UI shows the relation).
    described = await temporal_client.get_workflow_handle(child_id).describe()
    assert described.parent_id == run_id
    assert described.typed_search_attributes.get(AGENT_NAME) == spec.tools[0].config["agent"]
    child: RunResult = await temporal_client.get_workflow_handle_for(
        AgentRun.run, child_id
    ).result()
    assert child.answer == "the total is 42" and child.tool_calls == 1
    # The child's usage counts in the parent's.
    own = sum(e["data"]["usage"]["total_tokens"] for e in events if e["type"] == "llm.completed")
    assert result.usage.total_tokens == own + child.usage.total_tokens
    assert child.usage.total_tokens > 0
    # The child's events are on the parent's stream, in order, wrapped.
    relayed = [e["data"]["event"]["type"] for e in events if e["type"] == "subagent.event"]
    assert relayed[0] == "run.started" and relayed[-1] == "run.completed"
    assert "tool.completed" in relayed
    assert all(e["data"]["call_id"] == "sub1" for e in events if e["type"] == "subagent.event")
    completed = next(e for e in events if e["type"] == "subagent.completed")
    assert completed["data"]["answer"] == "the total is 42"
    # The parent's model saw the child's answer as the tool result.
    bodies = [body for _, body in TranscriptStore(seeded).read(run_id)]
    assert [b["text"] for b in bodies if b["role"] == "tool"] == ["the total is 42"]
    # The child run is recorded with its parent, and GET /v1/runs/{id} says so.
    view = await get_run(temporal_client, child_id)
    assert (view.parent_run_id, view.status, view.answer) == (run_id, "completed", child.answer)
    assert (await get_run(temporal_client, run_id)).parent_run_id is None
    for _ in range(100):  # visibility is eventually consistent
        page = await list_runs(
            temporal_client, agent=child.agent, status=None, page_size=5, page_token=None
        )
        if page.runs:
            break
        await asyncio.sleep(0.1)
    assert [(r.run_id, r.parent_run_id) for r in page.runs] == [(child_id, run_id)]
    with seeded() as session:
        row = session.scalar(select(Run).where(Run.run_id == child_id))
    assert row is not None and row.parent_run_id == run_id
    # The child records how it ended in its row, as any run does (workflows/outcomes.py).
    assert (row.status, row.steps, row.total_tokens) == (
        "completed",
        child.steps,
        child.usage.total_tokens,
    )


async def test_the_parents_budget_caps_the_child_and_counts_its_usage(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    call = {"name": "calculator", "arguments": {"expression": "1"}}
    forever = [{"text": "thinking", "tool_calls": [call]}] * 50
    spec = define_subagent(
        seeded,
        {"tools": ["calculator"], "script": forever, "max_steps": 100},
        {"max_total_tokens": 400},
    )
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "delegate")

    events = await events_of(temporal_client, run_id)
    started = next(e for e in events if e["type"] == "subagent.started")
    parent_first_step = events[[e["type"] for e in events].index("llm.completed")]
    spent_before = parent_first_step["data"]["usage"]["total_tokens"]
    assert started["data"]["limits"]["max_total_tokens"] == 400 - spent_before
    completed = next(e for e in events if e["type"] == "subagent.completed")
    assert completed["data"]["status"] == "stopped"
    assert completed["data"]["stop_reason"] == "budget_tokens"
    # The parent counted the child's tokens and stopped on its own budget.
    assert result.status == "stopped" and result.stop_reason == "budget_tokens"
    assert result.usage.total_tokens >= 400


async def test_a_failed_sub_agent_is_an_error_result_and_the_parent_goes_on(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    strict = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
    }
    spec = define_subagent(
        seeded,
        {"script": [{"text": "not json"}], "output_schema": strict, "max_output_repairs": 0},
        {},
    )
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "delegate")

    assert result.status == "completed" and result.tool_errors == 1
    events = await events_of(temporal_client, run_id)
    failed = next(e for e in events if e["type"] == "subagent.failed")
    assert failed["data"]["error_type"] == "OutputSchemaViolation"
    assert failed["data"]["usage"]["total_tokens"] > 0
    tool_done = next(e for e in events if e["type"] == "tool.completed")
    assert tool_done["data"]["ok"] is False
    assert tool_done["data"]["error_type"] == "subagent_failed"
    assert "output schema" in tool_done["data"]["error"]
    # Its spent tokens still count.
    own = sum(e["data"]["usage"]["total_tokens"] for e in events if e["type"] == "llm.completed")
    assert result.usage.total_tokens == own + failed["data"]["usage"]["total_tokens"]


async def test_on_tool_error_fail_fails_the_parent_with_the_childs_reason(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    strict = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    spec = define_subagent(
        seeded,
        {"script": [{"text": "not json"}], "output_schema": strict, "max_output_repairs": 0},
        {"on_tool_error": "fail"},
    )
    run_id = await start_agent(temporal_client, orch_settings, spec, "delegate")
    events = await events_of(temporal_client, run_id)
    assert events[-1]["type"] == "run.failed"
    assert events[-1]["data"]["error_type"] == "ToolFailed"
    assert "output schema" in events[-1]["data"]["error"]


async def test_cancelling_the_parent_cancels_the_child(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    waits = [{"tool_calls": [{"name": "ask_user", "arguments": {"question": "which one?"}}]}]
    spec = define_subagent(seeded, {"tools": ["ask_user"], "script": waits}, {})
    run_id = await start_agent(temporal_client, orch_settings, spec, "delegate")
    stream = WorkflowStreamClient.create(temporal_client, run_id)
    async for item in stream.subscribe([EVENTS_TOPIC]):
        inner = item.data["data"].get("event", {})
        if item.data["type"] == "subagent.event" and inner.get("type") == "input.requested":
            child_id = item.data["data"]["run_id"]
            break
    await temporal_client.get_workflow_handle(run_id).cancel()
    events = await events_of(temporal_client, run_id)
    assert events[-1]["type"] == "run.cancelled"
    child = await temporal_client.get_workflow_handle(child_id).describe()
    assert child.status == WorkflowExecutionStatus.CANCELED


async def test_arguments_that_break_the_tools_schema_start_no_child(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    short = {
        "type": "object",
        "properties": {"input": {"type": "string", "maxLength": 5}},
        "required": ["input"],
    }
    spec = define_subagent(seeded, {"script": [{"text": "never"}]}, {}, parameters=short)
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "delegate")

    assert result.status == "completed" and result.invalid_tool_calls == 1
    events = await events_of(temporal_client, run_id)
    assert not [e for e in events if e["type"].startswith("subagent.")]
    done = next(e["data"] for e in events if e["type"] == "tool.completed")
    assert done["error_type"] == "invalid_arguments" and "$.input" in done["error"]
