"""A model step reads only the transcript entries after those an earlier step of the run read
or wrote on this worker (activities/llm/prefixes.py), and the model still gets the whole
transcript; a first attempt that holds all of it reads nothing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.llm.activity import LlmActivities
from activities.llm.base import ModelProvider, ModelRequest
from activities.llm.prefixes import ENTRY_OVERHEAD, TranscriptPrefixes
from activities.tools.activity import ToolActivities
from activities.tools.base import ToolContext
from activities.transcript import from_body, to_body
from config_store.transcript import TranscriptStore
from workflows.types import (
    AgentSpec,
    LlmStepInput,
    LlmStepResult,
    ProviderSpec,
    ToolCall,
    ToolCallInput,
    ToolSpec,
    TranscriptMessage,
    Usage,
)

AGENT = AgentSpec(name="a", version=1, provider=ProviderSpec(name="p", kind="echo"), model="m")
CALCULATOR = ToolSpec(name="calculator", kind="calculator")


class ReadCounting(TranscriptStore):
    """The real store, noting where each read starts and each lookup of one entry."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        super().__init__(factory)
        self.starts: list[int] = []
        self.lookups: list[int] = []

    def get(self, run_id: str, seq: int) -> dict[str, Any] | None:
        self.lookups.append(seq)
        return super().get(run_id, seq)

    def read(
        self, run_id: str, upto: int | None = None, start: int = 0
    ) -> list[tuple[int, dict[str, Any]]]:
        self.starts.append(start)
        return super().read(run_id, upto, start)


class Recorder:
    seen: list[tuple[TranscriptMessage, ...]] = []

    async def complete(self, request: ModelRequest) -> LlmStepResult:
        Recorder.seen.append(request.messages)
        call = ToolCall(id=f"c{len(Recorder.seen)}", name="calculator", arguments={})
        return LlmStepResult(text=f"step {len(Recorder.seen)}", tool_calls=(call,), usage=Usage())

    async def aclose(self) -> None:
        return None


def recorder(_spec: ProviderSpec, _env: Mapping[str, str]) -> ModelProvider:
    return Recorder()


@pytest.fixture
def store(session_factory: sessionmaker[Session]) -> ReadCounting:
    return ReadCounting(session_factory)


async def test_each_step_reads_only_the_new_entries_and_the_model_gets_them_all(
    store: ReadCounting,
) -> None:
    llm = LlmActivities(store, env={}, provider_factory=recorder)
    env = ActivityEnvironment()
    Recorder.seen = []
    user = TranscriptMessage(role="user", text="go")
    await env.run(
        llm.llm_step, LlmStepInput(run_id="r", seq=1, step=1, agent=AGENT, prelude=(user,))
    )
    for step in range(2, 5):
        seq = 2 * step - 1  # the tool result of the step before is at seq - 1
        tool = TranscriptMessage(role="tool", text=f"result {step}", tool_call_id=f"c{step - 1}")
        store.append("r", seq - 1, [to_body(tool)])
        await env.run(llm.llm_step, LlmStepInput(run_id="r", seq=seq, step=step, agent=AGENT))
    # The first step holds what it wrote (its prelude) and reads nothing; each later one reads
    # only the tool result written by someone else (here the test, not a tool step of this
    # worker), from the answer this worker stored on.
    assert store.starts == [2, 4, 6]
    whole = [from_body(body) for _, body in store.read("r")]
    for seen in Recorder.seen:
        assert list(seen) == whole[: len(seen)]
    assert [len(seen) for seen in Recorder.seen] == [1, 3, 5, 7]

    # A worker that never saw the run (another one, or after eviction) reads it whole.
    other = ReadCounting(store.session_factory)
    fresh = LlmActivities(other, env={}, provider_factory=recorder)
    await env.run(
        fresh.llm_step,
        LlmStepInput(
            run_id="r",
            seq=9,
            step=5,
            agent=AGENT,
            prelude=(TranscriptMessage(role="tool", text="result 5", tool_call_id="c4"),),
        ),
    )
    assert other.starts == [0] and len(Recorder.seen[-1]) == 9


def calculator_call(seq: int, step: int, call_id: str) -> ToolCallInput:
    call = ToolCall(id=call_id, name="calculator", arguments={"expression": f"6*{step}"})
    return ToolCallInput(run_id="r", seq=seq, step=step, call=call, tool=CALCULATOR)


async def first_step_on_one_worker(
    store: TranscriptStore,
) -> tuple[LlmActivities, ToolActivities, ActivityEnvironment]:
    """A worker's model and tool steps sharing what it holds, after run r's first model step."""
    prefixes = TranscriptPrefixes()
    llm = LlmActivities(store, env={}, provider_factory=recorder, prefixes=prefixes)
    tools = ToolActivities(store, ToolContext(workspace_dir=Path(".")), prefixes=prefixes)
    env = ActivityEnvironment()
    Recorder.seen = []
    user = TranscriptMessage(role="user", text="go")
    await env.run(
        llm.llm_step, LlmStepInput(run_id="r", seq=1, step=1, agent=AGENT, prelude=(user,))
    )
    return llm, tools, env


async def test_a_run_whose_steps_all_ran_on_this_worker_reads_nothing(store: ReadCounting) -> None:
    llm, tools, env = await first_step_on_one_worker(store)
    for step in range(2, 5):
        seq = 2 * step - 1
        outcome = await env.run(tools.tool_call, calculator_call(seq - 1, step - 1, f"c{step - 1}"))
        assert outcome.ok and outcome.preview == str(6 * (step - 1))
        await env.run(llm.llm_step, LlmStepInput(run_id="r", seq=seq, step=step, agent=AGENT))
    assert store.starts == [] and store.lookups == []  # the calculator is not looked up either
    whole = [from_body(body) for _, body in store.read("r")]
    assert [len(seen) for seen in Recorder.seen] == [1, 3, 5, 7]
    for seen in Recorder.seen:
        assert list(seen) == whole[: len(seen)]


async def test_a_retried_attempt_reads_the_answer_an_earlier_attempt_stored(
    store: ReadCounting,
) -> None:
    """What this worker holds says nothing of an earlier attempt that ran on another worker:
    a second attempt reads, finds that attempt's answer and does not call the model."""
    llm, tools, env = await first_step_on_one_worker(store)
    await env.run(tools.tool_call, calculator_call(2, 1, "c1"))
    elsewhere = TranscriptMessage(role="assistant", text="answered by the first attempt")
    store.append("r", 3, [to_body(elsewhere, usage=Usage(input_tokens=2, output_tokens=3))])
    env.info = replace(env.info, attempt=2)
    result = await env.run(llm.llm_step, LlmStepInput(run_id="r", seq=3, step=2, agent=AGENT))
    assert result.text == "answered by the first attempt" and result.usage.total_tokens == 5
    assert len(Recorder.seen) == 1 and store.starts == [3]


async def test_a_pure_tool_retried_keeps_the_first_stored_result(store: ReadCounting) -> None:
    tools = ToolActivities(store, ToolContext(workspace_dir=Path(".")))
    first = TranscriptMessage(role="tool", text="41", tool_call_id="c1", tool_name="calculator")
    store.append("r", 2, [to_body(first)])
    outcome = await ActivityEnvironment().run(tools.tool_call, calculator_call(2, 7, "c1"))
    assert outcome.ok and outcome.preview == "41"  # computed again (42), the first write kept
    assert store.lookups == []


def test_the_prefixes_keep_to_their_budget_dropping_the_least_recently_used() -> None:
    message = (TranscriptMessage(role="user", text="x" * 900),)  # counted 1,000
    prefixes = TranscriptPrefixes(budget_chars=2_500)
    assert ENTRY_OVERHEAD == 100
    prefixes.put("a", message)
    prefixes.put("b", message)
    assert prefixes.get("a") == message  # a is now the most recently used
    prefixes.put("c", message)
    assert prefixes.get("b") == () and prefixes.get("a") == message == prefixes.get("c")
    prefixes.put("big", message * 3)  # over the budget alone: not held
    assert prefixes.get("big") == () and prefixes.runs == 2
