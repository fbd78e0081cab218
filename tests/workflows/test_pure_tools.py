"""A step whose every call is to a quick, pure tool (the calculator) runs in the workflow under
the `inline-pure-tools` patch (workflows/pure_tools.py): no activity and no marker for the calls,
the same results, events and transcript as the tool activity gives, each result written by the
next model step (or, when none comes, by one `transcript_record` activity)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHistory,
    WorkflowUpdateFailedError,
)
from temporalio.contrib.workflow_streams import PollInput, PollResult
from temporalio.service import RPCError

from activities.tools import calculator
from activities.tools.base import ToolError
from config_store.transcript import TranscriptStore
from core.settings import Settings
from tests.fakes.provider_server import FakeProviderServer, FakeReply, FakeToolCall
from tests.support.provider import fake_openai
from tests.support.runs import (
    demo_spec,
    events_of,
    local_activities,
    patch_markers,
    run_agent,
    start_agent,
)
from workflows import patches, pure_tools
from workflows.agent_run import AgentRun
from workflows.stream_watch import POLL_UPDATE
from workflows.types import EVENTS_TOPIC, AgentSpec, ScriptTurn, ToolCall

pytestmark = pytest.mark.usefixtures("worker")

CALC = ToolCall(id="c", name="calculator", arguments={"expression": "12*7"})
# A 12-step calculator run (11 calls, then an answer), historySizeBytes on the dev server: 20,664
# with each call a local activity (before this patch), 17,034 computed by the workflow (measured
# here); a little room for the dev server's own bookkeeping.
INLINE_12_STEP_BYTES = 18_000


def scheduled(history: WorkflowHistory) -> list[str]:
    """The activities the history scheduled, by name, in order."""
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]


def looping(spec: AgentSpec, steps: int) -> AgentSpec:
    script = (ScriptTurn(text="working", tool_calls=(CALC,)),) * (steps - 1) + (
        ScriptTurn(text="done"),
    )
    return replace(spec, script=script, max_steps=steps)


async def test_a_calculator_step_runs_no_activity_and_gives_the_same_result(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id, result = await run_agent(
        temporal_client, orch_settings, demo_spec(seeded), "What is 12*7?"
    )
    assert result.status == "completed" and "84" in result.answer
    assert (result.steps, result.tool_calls, result.tool_errors) == (2, 1, 0)

    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    assert scheduled(history) == ["llm_step", "llm_step"]
    assert local_activities(history) == ["record_outcome"]
    # One marker, the newest baseline's, stands for the patch (workflows/patches.py).
    assert patch_markers(history, implied=False) == [patches.BASELINE_2]
    assert pure_tools.PATCH in patch_markers(history)

    events = await events_of(temporal_client, run_id)
    assert [e["type"] for e in events] == [
        "run.started",
        "step.started",
        "llm.completed",
        "tool.started",
        "tool.completed",
        "step.started",
        "llm.completed",
        "run.completed",
    ]
    tool = next(e["data"] for e in events if e["type"] == "tool.completed")
    assert tool["arguments"] == {"expression": "12*7"}
    assert (tool["ok"], tool["result"], tool["truncated"]) == (True, "84", False)
    bodies = [body for _, body in TranscriptStore(seeded).read(run_id)]
    assert [b["role"] for b in bodies] == ["user", "assistant", "tool", "assistant"]
    assert (bodies[2]["tool_name"], bodies[2]["text"], bodies[2]["tool_call_id"]) == (
        "calculator",
        "84",
        next(e["data"]["call_id"] for e in events if e["type"] == "tool.started"),
    )


async def test_calls_of_one_step_keep_their_order_and_an_error_is_the_model_s_to_see(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    calls = (
        ToolCall(id="a", name="calculator", arguments={"expression": "2+3"}),
        ToolCall(id="b", name="calculator", arguments={"expression": "1/0"}),
        ToolCall(id="c", name="calculator", arguments={"expression": "6*7"}),
    )
    script = (ScriptTurn(tool_calls=calls), ScriptTurn(text="done"))
    run_id, result = await run_agent(
        temporal_client, orch_settings, demo_spec(seeded, script=script), "go"
    )
    assert result.status == "completed" and result.answer == "done"
    assert (result.tool_calls, result.tool_errors) == (3, 1)
    completed = [
        e["data"] for e in await events_of(temporal_client, run_id) if e["type"] == "tool.completed"
    ]
    assert [(t["call_id"], t["ok"], t["result"]) for t in completed] == [
        ("a", True, "5"),
        ("b", False, "error: division by zero"),
        ("c", True, "42"),
    ]
    assert (completed[1]["error"], completed[1]["error_type"]) == (
        "error: division by zero",
        "tool_error",
    )
    bodies = [body for _, body in TranscriptStore(seeded).read(run_id)]
    tools = [(b["tool_call_id"], b["text"], b.get("is_error", False)) for b in bodies[2:5]]
    assert tools == [("a", "5", False), ("b", "error: division by zero", True), ("c", "42", False)]


async def test_a_run_that_ends_before_another_model_step_still_writes_the_results(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    script = (
        ScriptTurn(
            tool_calls=(ToolCall(id="div", name="calculator", arguments={"expression": "1/0"}),)
        ),
        ScriptTurn(text="never"),
    )
    spec = demo_spec(seeded, script=script, on_tool_error="fail")
    run_id = await start_agent(temporal_client, orch_settings, spec, "go")
    with pytest.raises(WorkflowFailureError):
        await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    assert scheduled(history) == ["llm_step", "transcript_record"]
    bodies = [body for _, body in TranscriptStore(seeded).read(run_id)]
    assert [(b["role"], b["text"]) for b in bodies] == [
        ("user", "go"),
        ("assistant", ""),
        ("tool", "error: division by zero"),
    ]


@pytest.mark.parametrize(
    "arguments",
    [
        {"expression": "12*7"},
        {"expression": "0.1 + 0.2"},
        {"expression": "2 ** 0.5"},
        {"expression": "-(3) // 2"},
        {"expression": "1/0"},
        {"expression": "2 ** 5000"},
        {"expression": "9" * 2000 + " * 9" * 0},
        {"expression": "(" * 200 + "1" + ")" * 200},
        {"expression": ""},
        {"expression": "x + 1"},
        {"expression": "__import__('os')"},
        {"expression": 5},
        {},
    ],
)
async def test_the_workflow_computes_what_the_tool_activity_gives(arguments: Any) -> None:
    call = ToolCall(id="c", name="calculator", arguments=arguments)
    try:
        expected: tuple[str, str | None] = (await calculator.run(arguments, None, {}), None)  # type: ignore[arg-type]
    except ToolError as err:
        expected = (f"error: {err}", "tool_error")
    assert pure_tools.compute(call) == expected


def test_a_fault_in_the_computation_is_a_tool_error_not_a_failed_workflow_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(expression: str) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(pure_tools, "evaluate", broken)
    outcome, message = pure_tools.run_inline(CALC)
    assert (outcome.ok, outcome.error_type) == (False, "tool_error")
    assert outcome.error == "error: tool 'calculator' failed: RuntimeError: a bug"
    assert (message.role, message.text, message.is_error) == ("tool", outcome.error, True)


async def test_computed_calls_write_less_history_per_step(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    async def history_bytes(spec: AgentSpec) -> int:
        run_id, result = await run_agent(temporal_client, orch_settings, spec, "loop")
        assert result.steps == 12 and result.answer == "done"
        described = await temporal_client.get_workflow_handle(run_id).describe()
        return int(described.raw_description.workflow_execution_info.history_size_bytes)

    spec = looping(demo_spec(seeded), 12)
    # Not idempotent: not pure, every call a `tool_call` activity.
    scheduled_spec = replace(spec, tools=tuple(replace(t, idempotent=False) for t in spec.tools))
    inline, remote = await history_bytes(spec), await history_bytes(scheduled_spec)
    assert inline <= INLINE_12_STEP_BYTES, (inline, remote)
    assert remote - inline >= 11 * 600, (inline, remote)  # each of the 11 calls saves > 600 B


def event_type(wire: str) -> str:
    """The type of a stream item as a poll answers it (base64 of a serialized Payload)."""
    payload = Payload()
    payload.ParseFromString(base64.b64decode(wire))
    kind: str = json.loads(payload.data)["type"]
    return kind


async def test_a_waiting_poll_gets_every_event_of_a_calculator_step_in_one_answer(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Computed in the workflow task that got the model's answer, the calls' results are
    published with it. As local activities they were not: a waiting poll answered with
    llm.completed and tool.started, and the rest waited for the subscriber's next poll (a
    cooldown and a workflow task later: ~30 ms more for half of a step's events)."""
    monkeypatch.setenv("ORCH_TEST_POLL_KEY", "sk-test")
    for _ in range(2):  # slow enough for the poll to be waiting when the model answers
        fake_provider.queue_reply(
            FakeReply(tool_calls=(FakeToolCall("calculator", {"expression": "6*7"}),), delay=0.3)
        )
    provider = fake_openai(fake_provider, "ORCH_TEST_POLL_KEY")
    spec = demo_spec(seeded, provider=provider, model="m", max_steps=3)
    run_id = await start_agent(temporal_client, orch_settings, spec, "What is 6*7?")
    handle = temporal_client.get_workflow_handle(run_id)
    answers: list[list[str]] = []
    offset = 0
    while not answers or "run.completed" not in answers[-1]:
        try:
            answer = await handle.execute_update(
                POLL_UPDATE,
                PollInput(topics=[EVENTS_TOPIC], from_offset=offset),
                result_type=PollResult,
            )
        except (WorkflowUpdateFailedError, RPCError):
            break  # closed between two polls: its last answer is not needed here
        offset = answer.next_offset
        answers.append([event_type(item.data) for item in answer.items])
    result = await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()
    assert result.tool_calls == 2
    with_tools = [answer for answer in answers if "tool.started" in answer]
    assert len(with_tools) == 2, answers
    for answer in with_tools:
        assert answer[answer.index("llm.completed") :] == [
            "llm.completed",
            "tool.started",
            "tool.completed",
            "step.started",
        ], answers
