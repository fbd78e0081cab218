"""Quick, pure tool calls (the calculator) run as local activities under the `local-pure-tools`
patch when their step also calls a tool that is not pure (a step of pure calls only runs in the
workflow: tests/workflows/test_pure_tools.py): no `tool_call` activity task for them in the
history, a local-activity marker instead, and the same result, events and transcript as a normal
activity gives."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import ActivityEnvironment

from activities.heartbeat import heartbeating
from activities.tools import calculator
from config_store.transcript import TranscriptStore
from core.settings import Settings
from tests.support.runs import (
    demo_spec,
    events_of,
    local_activities,
    patch_markers,
    run_agent,
)
from workflows.tool_steps import LOCAL_PURE_TOOLS, runs_locally
from workflows.types import AgentSpec, ScriptTurn, ToolCall, ToolSpec

pytestmark = pytest.mark.usefixtures("worker")

CALC = ToolCall(id="c", name="calculator", arguments={"expression": "12*7"})
WRITE = ToolCall(id="w", name="write_file", arguments={"path": "a.txt", "content": "hi"})
WRITER = ToolSpec(name="write_file", kind="write_file")
LOCAL_ACTIVITY_MARKER = "core_local_activity"


def tool_activities(history: WorkflowHistory) -> list[str]:
    """The names of the `tool_call` activities the history scheduled."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "tool_call"
    ]


def local_markers(history: WorkflowHistory) -> int:
    """The local `tool_call` activities of the history (the run's end adds a `record_outcome`
    one: workflows/outcomes.py)."""
    return local_activities(history).count("tool_call")


def mixed(spec: AgentSpec, *, attempts: int | None = None) -> AgentSpec:
    """`spec` with a step that calls the calculator and write_file at once, then an answer."""
    tools = (
        spec.tools
        if attempts is None
        else tuple(replace(t, retry_attempts=attempts) for t in spec.tools)
    )
    script = (ScriptTurn(tool_calls=(CALC, WRITE)), ScriptTurn(text="done"))
    return replace(spec, tools=(*tools, WRITER), script=script)


async def test_a_calculator_call_beside_another_tool_runs_as_a_local_activity(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id, result = await run_agent(temporal_client, orch_settings, mixed(demo_spec(seeded)), "go")
    assert result.status == "completed" and result.answer == "done"
    assert (result.steps, result.tool_calls, result.tool_errors) == (2, 2, 0)

    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    assert tool_activities(history) == ["tool_call"]  # write_file's
    assert local_markers(history) == 1
    assert LOCAL_PURE_TOOLS in patch_markers(history)

    events = await events_of(temporal_client, run_id)
    assert [e["type"] for e in events] == [
        "run.started",
        "step.started",
        "llm.completed",
        "tool.started",
        "tool.started",
        "tool.completed",
        "tool.completed",
        "step.started",
        "llm.completed",
        "run.completed",
    ]
    tool = next(e["data"] for e in events if e["type"] == "tool.completed")
    assert tool["arguments"] == {"expression": "12*7"}
    assert (tool["ok"], tool["result"], tool["truncated"]) == (True, "84", False)
    bodies = [body for _, body in TranscriptStore(seeded).read(run_id)]
    assert [b["role"] for b in bodies] == ["user", "assistant", "tool", "tool", "assistant"]
    assert (bodies[2]["tool_name"], bodies[2]["text"]) == ("calculator", "84")
    assert bodies[3]["tool_name"] == "write_file"


async def test_a_tool_with_effects_still_runs_as_an_activity_and_records_no_marker(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    write = ToolSpec(name="write_file", kind="write_file")
    script = (
        ScriptTurn(
            tool_calls=(
                ToolCall(id="w", name="write_file", arguments={"path": "a.txt", "content": "hi"}),
            )
        ),
        ScriptTurn(text="written"),
    )
    spec = demo_spec(seeded, tools=(write,), script=script)
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "go")
    assert result.answer == "written" and result.tool_errors == 0
    assert (orch_settings.workspace_dir / "a.txt").read_text() == "hi"
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    assert tool_activities(history) == ["tool_call"]
    assert local_markers(history) == 0
    # No marker of its own: the baseline's stands for the patch (workflows/patches.py).
    assert LOCAL_PURE_TOOLS not in patch_markers(history, implied=False)


def test_only_an_idempotent_unguarded_calculator_runs_locally() -> None:
    calc = ToolSpec(name="calculator", kind="calculator")
    assert runs_locally(calc)
    assert not runs_locally(replace(calc, idempotent=False))
    assert not runs_locally(replace(calc, requires_approval=True))
    assert not runs_locally(None)
    for kind in ("write_file", "http", "http_request", "ask_user", "agent", "mcp", "read_file"):
        assert not runs_locally(ToolSpec(name=kind, kind=kind)), kind  # type: ignore[arg-type]


async def test_a_local_calculator_call_that_raises_is_retried_then_succeeds(
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = calculator.evaluate
    calls: list[str] = []

    def flaky(expression: str) -> calculator.Number:
        calls.append(expression)
        if len(calls) == 1:
            raise RuntimeError("a passing fault")
        return real(expression)

    monkeypatch.setattr(calculator, "evaluate", flaky)
    run_id, result = await run_agent(temporal_client, orch_settings, mixed(demo_spec(seeded)), "go")
    assert result.status == "completed" and result.answer == "done"
    assert result.tool_errors == 0
    assert calls == ["12*7", "12*7"]
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    assert tool_activities(history) == ["tool_call"] and local_markers(history) == 1
    events = await events_of(temporal_client, run_id)
    tool = next(e["data"] for e in events if e["type"] == "tool.completed")
    assert (tool["ok"], tool["result"]) == (True, "84")


async def test_a_calculator_that_fails_on_every_attempt_gives_the_model_an_error(
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(expression: str) -> calculator.Number:
        raise RuntimeError("always broken")

    monkeypatch.setattr(calculator, "evaluate", broken)
    spec = mixed(demo_spec(seeded), attempts=2)
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "go")
    assert result.status == "completed" and result.answer == "done"
    assert local_markers(await temporal_client.get_workflow_handle(run_id).fetch_history()) == 1
    assert result.tool_errors == 1
    events = await events_of(temporal_client, run_id)
    tool = next(e["data"] for e in events if e["type"] == "tool.completed")
    assert tool["ok"] is False and tool["error_type"] == "tool_error"
    assert "always broken" in tool["error"]


async def test_heartbeating_in_a_local_activity_only_awaits_the_work() -> None:
    env = ActivityEnvironment()
    env.info = replace(env.info, is_local=True)
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)

    async def slow() -> str:
        await asyncio.sleep(0.1)
        return "done"

    assert await env.run(heartbeating, slow(), 0.01) == "done"
    assert beats == []
    # A normal activity heartbeats while it waits.
    env.info = replace(env.info, is_local=False)
    assert await env.run(heartbeating, slow(), 0.01) == "done"
    assert beats
