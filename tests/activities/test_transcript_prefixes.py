"""A model step reads only the transcript entries after those an earlier step of the run read
on this worker (activities/llm/prefixes.py), and the model still gets the whole transcript."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.llm.activity import LlmActivities
from activities.llm.base import ModelProvider, ModelRequest
from activities.llm.prefixes import ENTRY_OVERHEAD, TranscriptPrefixes
from activities.transcript import from_body, to_body
from config_store.transcript import TranscriptStore
from workflows.types import (
    AgentSpec,
    LlmStepInput,
    LlmStepResult,
    ProviderSpec,
    ToolCall,
    TranscriptMessage,
    Usage,
)

AGENT = AgentSpec(name="a", version=1, provider=ProviderSpec(name="p", kind="echo"), model="m")


class ReadCounting(TranscriptStore):
    """The real store, noting where each read starts."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        super().__init__(factory)
        self.starts: list[int] = []

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
    assert store.starts == [0, 1, 3, 5]  # after the first, from where the last read stopped
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
