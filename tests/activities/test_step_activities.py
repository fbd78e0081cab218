"""The step activities against a real store (SQLite and Postgres): a retried attempt never calls
the model again nor re-runs a tool; what the first attempt stored stands."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.llm.activity import LlmActivities
from activities.llm.base import ModelProvider, ModelRequest
from activities.tools.activity import PREVIEW_CHARS, ToolActivities
from activities.tools.base import ToolContext
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

READ = ToolSpec(name="read_file", kind="read_file", retry_attempts=2)
AGENT = AgentSpec(
    name="a", version=1, provider=ProviderSpec(name="p", kind="counting"), model="m", tools=(READ,)
)


class CountingModel:
    """A model that answers with a new tool call each time it is called, and counts the calls."""

    calls = 0

    async def complete(self, request: ModelRequest) -> LlmStepResult:
        CountingModel.calls += 1
        n = CountingModel.calls
        call = ToolCall(id=f"c{n}", name="read_file", arguments={"path": "f.txt"})
        return LlmStepResult(text=f"call {n}", tool_calls=(call,), usage=Usage(3, 4), model="m")

    async def aclose(self) -> None:
        return None


def counting(_spec: ProviderSpec, _env: Mapping[str, str]) -> ModelProvider:
    return CountingModel()


@pytest.fixture
def store(session_factory: sessionmaker[Session]) -> TranscriptStore:
    return TranscriptStore(session_factory)


async def test_a_retried_model_step_returns_the_stored_answer(store: TranscriptStore) -> None:
    llm = LlmActivities(store, env={}, provider_factory=counting)
    step = LlmStepInput(
        run_id="r1",
        seq=1,
        step=1,
        agent=AGENT,
        prelude=(TranscriptMessage(role="user", text="hi"),),
    )
    env = ActivityEnvironment()
    CountingModel.calls = 0
    first = await env.run(llm.llm_step, step)
    again = await env.run(llm.llm_step, step)
    assert CountingModel.calls == 1
    assert again == first and first.usage == Usage(3, 4)
    assert [b["role"] for _, b in store.read("r1")] == ["user", "assistant"]


async def test_a_model_step_with_a_gap_before_it_asks_for_another_attempt(
    store: TranscriptStore,
) -> None:
    llm = LlmActivities(store, env={}, provider_factory=counting)
    with pytest.raises(RuntimeError, match="before position 3"):
        await ActivityEnvironment().run(
            llm.llm_step, LlmStepInput(run_id="r2", seq=3, step=2, agent=AGENT)
        )


async def test_a_retried_tool_call_is_not_run_twice(store: TranscriptStore, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("first content")
    tools = ToolActivities(store, ToolContext(workspace_dir=tmp_path))
    call = ToolCallInput(
        run_id="r3",
        seq=2,
        step=1,
        call=ToolCall(id="c1", name="read_file", arguments={"path": "f.txt"}),
        tool=READ,
    )
    env = ActivityEnvironment()
    first = await env.run(tools.tool_call, call)
    (tmp_path / "f.txt").write_text("changed since")
    again = await env.run(tools.tool_call, call)
    assert first.ok and first.preview == "first content"
    assert again == first


async def test_tool_failures_become_results_for_the_model(
    store: TranscriptStore, tmp_path: Path
) -> None:
    tools = ToolActivities(store, ToolContext(workspace_dir=tmp_path))
    missing = ToolCallInput(
        run_id="r4",
        seq=2,
        step=1,
        call=ToolCall(id="c1", name="read_file", arguments={"path": "nope.txt"}),
        tool=READ,
    )
    outcome = await ActivityEnvironment().run(tools.tool_call, missing)
    assert not outcome.ok and outcome.error is not None and "nope.txt" in outcome.error
    stored = store.get("r4", 2)
    assert stored is not None and stored["is_error"] is True and stored["tool_call_id"] == "c1"


async def test_big_results_are_cut_for_events_but_kept_whole(
    store: TranscriptStore, tmp_path: Path
) -> None:
    (tmp_path / "f.txt").write_text("y" * (PREVIEW_CHARS + 500))
    tools = ToolActivities(store, ToolContext(workspace_dir=tmp_path))
    call = ToolCallInput(
        run_id="r5",
        seq=2,
        step=1,
        call=ToolCall(id="c1", name="read_file", arguments={"path": "f.txt"}),
        tool=READ,
    )
    outcome = await ActivityEnvironment().run(tools.tool_call, call)
    assert outcome.truncated and len(outcome.preview) == PREVIEW_CHARS
    stored = store.get("r5", 2)
    assert stored is not None and len(stored["text"]) == PREVIEW_CHARS + 500
