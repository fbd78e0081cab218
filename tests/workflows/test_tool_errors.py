"""What every tool shares: invalid arguments go back to the model and are counted; a tool error
is an error result and an event; the agent's `on_tool_error` decides whether the run goes on."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest
from temporalio.client import Client

from config_store import call_ledger
from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.runs import get_run, start_run
from tests.support.runs import demo_spec, events_of, run_agent, start_agent
from workflows.types import ScriptTurn, ToolCall

pytestmark = pytest.mark.usefixtures("worker")

MIXED = (
    ScriptTurn(
        tool_calls=(
            ToolCall(id="bad", name="calculator", arguments={"expression": 12}),
            ToolCall(id="div", name="calculator", arguments={"expression": "1/0"}),
            ToolCall(id="ok", name="calculator", arguments={"expression": "2+2"}),
            ToolCall(id="who", name="no_such_tool", arguments={}),
        )
    ),
    ScriptTurn(text="done"),
)


async def test_errors_are_results_for_the_model_and_counted(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id, result = await run_agent(
        temporal_client, orch_settings, demo_spec(seeded, script=MIXED), "go"
    )
    assert result.status == "completed" and result.answer == "done"
    assert (result.tool_errors, result.invalid_tool_calls) == (3, 1)
    events = await events_of(temporal_client, run_id)
    done = [e["data"] for e in events if e["type"] == "tool.completed"]
    assert [d["call_id"] for d in done] == ["bad", "div", "ok", "who"]
    assert [d["error_type"] for d in done] == [
        "invalid_arguments",
        "tool_error",
        None,
        "unknown_tool",
    ]
    assert "$.expression" in done[0]["error"] and done[2]["result"] == "4"
    assert [d["invalid_tool_calls"] for d in done] == [1, 1, 1, 1]
    assert events[-1]["data"]["tool_errors"] == 3
    assert events[-1]["data"]["invalid_tool_calls"] == 1
    view = await get_run(temporal_client, run_id)
    assert (view.tool_errors, view.invalid_tool_calls) == (3, 1)


async def test_on_tool_error_fail_ends_the_run_with_the_tools_error(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    spec = demo_spec(seeded, script=MIXED, on_tool_error="fail")
    run_id = await start_agent(temporal_client, orch_settings, spec, "go")
    events = await events_of(temporal_client, run_id)
    assert events[-1]["type"] == "run.failed"
    assert events[-1]["data"]["error_type"] == "ToolFailed"
    assert "calculator" in events[-1]["data"]["error"]
    assert "division by zero" in events[-1]["data"]["error"]
    # Every call of the step still ended and was reported before the run failed.
    assert len([e for e in events if e["type"] == "tool.completed"]) == 4


async def test_on_tool_error_fail_still_lets_the_model_fix_its_arguments(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    script = (
        ScriptTurn(tool_calls=(ToolCall(id="bad", name="calculator", arguments={}),)),
        ScriptTurn(
            tool_calls=(ToolCall(id="good", name="calculator", arguments={"expression": "6*7"}),)
        ),
        ScriptTurn(text="42"),
    )
    spec = demo_spec(seeded, script=script, on_tool_error="fail")
    _, result = await run_agent(temporal_client, orch_settings, spec, "go")
    assert result.status == "completed" and result.invalid_tool_calls == 1


async def test_invalid_arguments_are_refused_before_a_person_is_asked(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    base = demo_spec(seeded)
    guarded = tuple(dataclasses.replace(t, requires_approval=True) for t in base.tools)
    script = (
        ScriptTurn(tool_calls=(ToolCall(id="bad", name="calculator", arguments={"x": 1}),)),
        ScriptTurn(text="fixed nothing"),
    )
    run_id, result = await run_agent(
        temporal_client,
        orch_settings,
        dataclasses.replace(base, tools=guarded, script=script),
        "go",
    )
    assert result.status == "completed" and result.invalid_tool_calls == 1
    events = await events_of(temporal_client, run_id)
    assert not [e for e in events if e["type"].startswith("approval.")]
    done = next(e["data"] for e in events if e["type"] == "tool.completed")
    assert done["error_type"] == "invalid_arguments"
    assert "'expression' is a required property" in done["error"]


@pytest.mark.parametrize("on_tool_error", ["continue", "fail"])
async def test_a_non_idempotent_call_cut_off_before_is_reported_and_counted(
    on_tool_error: str, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    # As if an earlier attempt began the call and its worker died: the ledger row is unfinished.
    run_id = f"run-{uuid.uuid4().hex}"
    for seq in range(6):  # wherever in the transcript the call lands
        assert call_ledger.start_call(seeded, run_id, seq, "cut", 1) == "go"
    spec = demo_spec(seeded, on_tool_error=on_tool_error)
    tools = tuple(dataclasses.replace(t, idempotent=False) for t in spec.tools)
    script = (
        ScriptTurn(
            tool_calls=(ToolCall(id="cut", name="calculator", arguments={"expression": "1+1"}),)
        ),
        ScriptTurn(text="done"),
    )
    await start_run(
        temporal_client,
        task_queue=orch_settings.temporal_task_queue,
        run_id=run_id,
        agent=dataclasses.replace(spec, tools=tools, script=script),
        input="go",
    )
    events = await events_of(temporal_client, run_id)
    done = [e["data"] for e in events if e["type"] == "tool.completed"]
    assert [(d["ok"], d["error_type"]) for d in done] == [(False, "outcome_unknown")]
    assert "it was not repeated" in done[0]["error"]
    view = await get_run(temporal_client, run_id)
    assert view.tool_errors == 1
    if on_tool_error == "fail":
        assert events[-1]["type"] == "run.failed"
        assert events[-1]["data"]["error_type"] == "ToolFailed"
    else:
        assert events[-1]["type"] == "run.completed" and view.answer == "done"
    seq = next(s for s, b in TranscriptStore(seeded).read(run_id) if b["role"] == "tool")
    row = call_ledger.get_call(seeded, run_id, seq)
    assert row is not None and row.finished_at is not None
