"""The AgentRun loop on a real dev server, with the real activities, store and scripted model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import CancelledError

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.runs import get_run
from tests.support.runs import demo_spec, events_of, run_agent, start_agent, stuck_spec
from workflows.types import (
    ProviderSpec,
    ScriptTurn,
    ToolCall,
)

pytestmark = pytest.mark.usefixtures("worker")


async def test_demo_agent_answers_with_the_calculator(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id, result = await run_agent(
        temporal_client, orch_settings, demo_spec(seeded), "What is 12*7?"
    )
    assert result.status == "completed"
    assert result.stop_reason == "answer"
    assert "84" in result.answer
    assert result.steps == 2 and result.tool_calls == 1
    assert result.usage.total_tokens > 0

    events = await events_of(temporal_client, run_id)
    types = [e["type"] for e in events]
    assert types == [
        "run.started",
        "step.started",
        "llm.completed",
        "tool.started",
        "tool.completed",
        "step.started",
        "llm.completed",
        "run.completed",
    ]
    tool = next(e for e in events if e["type"] == "tool.completed")
    assert tool["data"]["arguments"] == {"expression": "12*7"}
    assert tool["data"]["result"] == "84" and tool["data"]["ok"] is True
    assert all(e["run_id"] == run_id for e in events)
    assert "84" in events[-1]["data"]["answer"]

    # The transcript store holds the whole conversation, in order.
    store = TranscriptStore(seeded)
    roles = [body["role"] for _, body in store.read(run_id)]
    assert roles == ["user", "assistant", "tool", "assistant"]


async def test_tools_asked_together_run_concurrently_and_land_in_order(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    script = (
        ScriptTurn(
            tool_calls=(
                ToolCall(id="a", name="calculator", arguments={"expression": "2+3"}),
                ToolCall(id="b", name="calculator", arguments={"expression": "6*7"}),
            )
        ),
        ScriptTurn(text="both done"),
    )
    run_id, result = await run_agent(
        temporal_client, orch_settings, demo_spec(seeded, script=script), "go"
    )
    assert result.answer == "both done" and result.tool_calls == 2
    bodies = [body for _, body in TranscriptStore(seeded).read(run_id)]
    assert [(b.get("tool_call_id"), b["text"]) for b in bodies if b["role"] == "tool"] == [
        ("a", "5"),
        ("b", "42"),
    ]


async def test_a_failing_tool_gives_the_model_an_error_and_the_run_goes_on(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    script = (
        ScriptTurn(
            tool_calls=(ToolCall(id="x", name="calculator", arguments={"expression": "1/0"}),)
        ),
        ScriptTurn(tool_calls=(ToolCall(id="y", name="no_such_tool", arguments={}),)),
        ScriptTurn(text="recovered"),
    )
    run_id, result = await run_agent(
        temporal_client, orch_settings, demo_spec(seeded, script=script), "go"
    )
    assert result.status == "completed" and result.answer == "recovered"
    events = await events_of(temporal_client, run_id)
    tools = [e["data"] for e in events if e["type"] == "tool.completed"]
    assert [t["ok"] for t in tools] == [False, False]
    assert "zero" in tools[0]["error"].lower()
    assert "no_such_tool" in tools[1]["error"]


async def test_max_steps_stops_the_run_with_its_reason(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    loop = ScriptTurn(
        text="thinking",
        tool_calls=(ToolCall(id="c", name="calculator", arguments={"expression": "1+1"}),),
    )
    spec = demo_spec(seeded, script=(loop,) * 10, max_steps=3)
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "loop")
    assert result.status == "stopped" and result.stop_reason == "max_steps"
    assert result.steps == 3 and result.tool_calls == 2
    assert result.answer == "thinking"
    events = await events_of(temporal_client, run_id)
    assert events[-1]["type"] == "run.stopped"
    assert events[-1]["data"]["stop_reason"] == "max_steps"


async def test_a_model_that_cannot_be_called_fails_the_run_saying_why(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    provider = ProviderSpec(name="main", kind="openai", api_key_env="ORCH_TEST_UNSET_KEY")
    spec = demo_spec(seeded, provider=provider, model="gpt-4o-mini")
    run_id = await start_agent(temporal_client, orch_settings, spec, "hi")
    with pytest.raises(WorkflowFailureError):
        await temporal_client.get_workflow_handle(run_id).result()
    events = await events_of(temporal_client, run_id)
    assert events[-1]["type"] == "run.failed"
    assert "ORCH_TEST_UNSET_KEY" in events[-1]["data"]["error"]
    assert events[-1]["data"]["error_type"] == "MissingApiKey"
    view = await get_run(temporal_client, run_id)
    assert view.status == "failed" and view.stop_reason == "error"
    assert view.error is not None and "ORCH_TEST_UNSET_KEY" in view.error


async def test_history_grows_linearly_with_steps(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    """Tool results of ~4 KB each: 60 steps must cost < 2.3x the history of 30 steps.

    Re-sending the transcript into every model call would make it about 4x."""
    (Path(orch_settings.workspace_dir) / "big.txt").write_text("x" * 4096)
    read = ToolCall(id="r", name="read_file", arguments={"path": "big.txt"})

    async def history_bytes(steps: int) -> int:
        script = (ScriptTurn(tool_calls=(read,)),) * (steps - 1) + (ScriptTurn(text="done"),)
        spec = demo_spec(seeded, script=script, max_steps=steps)
        run_id, result = await run_agent(temporal_client, orch_settings, spec, "read")
        assert result.steps == steps and result.answer == "done"
        history = await temporal_client.get_workflow_handle(run_id).fetch_history()
        return sum(event.ByteSize() for event in history.events)

    small, large = await history_bytes(30), await history_bytes(60)
    assert large < 2.3 * small, (small, large)


async def test_a_cancelled_run_says_so_and_ends_cancelled(
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = stuck_spec(seeded, monkeypatch)
    run_id = await start_agent(temporal_client, orch_settings, spec, "hi")
    handle = temporal_client.get_workflow_handle(run_id)
    await asyncio.sleep(1.0)  # the model is unreachable: the step is being retried
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    events = await events_of(temporal_client, run_id)
    assert events[-1]["type"] == "run.cancelled" and events[-1]["data"]["steps"] == 1
    view = await get_run(temporal_client, run_id)
    assert view.status == "cancelled" and view.stop_reason == "cancelled"
