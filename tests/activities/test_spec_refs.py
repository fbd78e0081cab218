"""The step activities take the agent by reference (activities/specs.py): from the worker's
cache, read once per spec, checked against its hash; inputs that carry the spec still run."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.llm.activity import LlmActivities
from activities.llm.base import ModelProvider, ModelRequest
from activities.specs import SPEC_MISMATCH, AgentSpecs
from activities.tools.activity import ToolActivities
from activities.tools.base import ToolContext
from config_store.transcript import TranscriptStore
from workflows.spec_ref import spec_hash
from workflows.types import (
    AgentSpec,
    LlmStepInput,
    LlmStepResult,
    ModelChoice,
    ProviderSpec,
    ScriptTurn,
    ToolCall,
    ToolCallInput,
    ToolSpec,
    TranscriptMessage,
    Usage,
)

CALC = ToolSpec(name="calculator", kind="calculator")
PRIMARY = ProviderSpec(name="primary", kind="recording")
FALLBACK = ProviderSpec(name="fallback", kind="recording")
AGENT = AgentSpec(
    name="a",
    version=1,
    provider=PRIMARY,
    model="m1",
    system_prompt="be brief",
    tools=(CALC,),
    script=(ScriptTurn(text="one"), ScriptTurn(text="two")),
    fallbacks=(ModelChoice(provider=FALLBACK, model="m2"),),
)


class StubSpecs(AgentSpecs):
    """Specs "read from Temporal" from a given spec, slowly, counting the reads."""

    def __init__(self, spec: AgentSpec, size: int = 256) -> None:
        super().__init__(size)
        self.spec = spec

    async def read(self) -> AgentSpec:
        await asyncio.sleep(0.01)
        return self.spec


class RecordingModel:
    requests: list[ModelRequest] = []

    async def complete(self, request: ModelRequest) -> LlmStepResult:
        RecordingModel.requests.append(request)
        return LlmStepResult(text="ok", usage=Usage(1, 1), model=request.model)

    async def aclose(self) -> None:
        return None


def recording(_spec: ProviderSpec, _env: Mapping[str, str]) -> ModelProvider:
    return RecordingModel()


@pytest.fixture
def store(session_factory: sessionmaker[Session]) -> TranscriptStore:
    return TranscriptStore(session_factory)


def first_step(run_id: str, **fields: object) -> LlmStepInput:
    user = TranscriptMessage(role="user", text="hi")
    return LlmStepInput(run_id=run_id, seq=1, step=1, prelude=(user,), **fields)  # type: ignore[arg-type]


async def test_a_step_by_reference_calls_the_chosen_model_with_its_script_turn(
    store: TranscriptStore,
) -> None:
    specs = StubSpecs(AGENT)
    llm = LlmActivities(store, provider_factory=recording, specs=specs)
    RecordingModel.requests = []
    step = first_step("ref-1", spec_ref=spec_hash(AGENT), model_choice=1)
    result = await ActivityEnvironment().run(llm.llm_step, step)
    assert result.text == "ok" and result.model == "m2"
    [request] = RecordingModel.requests
    assert request.provider == FALLBACK and request.model == "m2"
    assert request.system_prompt == "be brief" and request.tools == (CALC,)
    assert request.script == (ScriptTurn(text="one"),)


async def test_steps_and_tool_calls_of_one_spec_read_it_once(
    store: TranscriptStore, tmp_path: Path
) -> None:
    specs = StubSpecs(AGENT)
    ref = spec_hash(AGENT)
    llm = LlmActivities(store, provider_factory=recording, specs=specs)
    tools = ToolActivities(store, ToolContext(workspace_dir=tmp_path), specs)
    env = ActivityEnvironment()
    calls = [
        ToolCallInput(
            run_id=f"ref-{i}",
            seq=2,
            step=1,
            call=ToolCall(id="c", name="calculator", arguments={"expression": "6*7"}),
            spec_ref=ref,
        )
        for i in range(5)
    ]
    outcomes = await asyncio.gather(*(env.run(tools.tool_call, call) for call in calls))
    assert [o.preview for o in outcomes] == ["42"] * 5
    await env.run(llm.llm_step, first_step("ref-9", spec_ref=ref))
    assert specs.reads == 1


async def test_a_tool_the_referenced_spec_lacks_is_an_unknown_tool(
    store: TranscriptStore, tmp_path: Path
) -> None:
    tools = ToolActivities(store, ToolContext(workspace_dir=tmp_path), StubSpecs(AGENT))
    call = ToolCall(id="c", name="rm_rf", arguments={})
    outcome = await ActivityEnvironment().run(
        tools.tool_call,
        ToolCallInput(run_id="ref-u", seq=2, step=1, call=call, spec_ref=spec_hash(AGENT)),
    )
    assert not outcome.ok and outcome.error_type == "unknown_tool"


async def test_a_spec_that_does_not_match_its_hash_fails_for_good(store: TranscriptStore) -> None:
    changed = replace(AGENT, system_prompt="something else")
    llm = LlmActivities(store, provider_factory=recording, specs=StubSpecs(changed))
    with pytest.raises(ApplicationError) as failure:
        await ActivityEnvironment().run(
            llm.llm_step, first_step("ref-m", spec_ref=spec_hash(AGENT))
        )
    assert failure.value.type == SPEC_MISMATCH and failure.value.non_retryable
    assert "hashes to" in failure.value.message


async def test_an_input_that_carries_the_spec_still_runs(
    store: TranscriptStore, tmp_path: Path
) -> None:
    """Inputs written before the spec went by reference: nothing is read."""
    specs = StubSpecs(AGENT)
    llm = LlmActivities(store, provider_factory=recording, specs=specs)
    tools = ToolActivities(store, ToolContext(workspace_dir=tmp_path), specs)
    env = ActivityEnvironment()
    step_agent = replace(AGENT, fallbacks=(), script=(ScriptTurn(text="one"),))
    result = await env.run(llm.llm_step, first_step("old-1", agent=step_agent))
    assert result.model == "m1"
    call = ToolCall(id="c", name="calculator", arguments={"expression": "1+1"})
    outcome = await env.run(
        tools.tool_call, ToolCallInput(run_id="old-1", seq=3, step=1, call=call, tool=CALC)
    )
    assert outcome.preview == "2"
    assert specs.reads == 0


def test_the_hash_is_of_the_content() -> None:
    assert spec_hash(AGENT) == spec_hash(replace(AGENT))
    assert spec_hash(AGENT) != spec_hash(replace(AGENT, tools=()))
    assert len(spec_hash(AGENT)) == 32


async def test_the_cache_keeps_the_most_recently_used_specs() -> None:
    specs = StubSpecs(AGENT, size=2)
    env = ActivityEnvironment()
    versions = [replace(AGENT, version=v) for v in (1, 2, 3)]
    for spec in versions:
        specs.spec = spec
        assert await env.run(specs.get, spec_hash(spec)) == spec
    assert specs.reads == 3
    specs.spec = versions[2]
    await env.run(specs.get, spec_hash(versions[2]))  # kept
    assert specs.reads == 3
    specs.spec = versions[0]
    await env.run(specs.get, spec_hash(versions[0]))  # the least recently used: gone
    assert specs.reads == 4
