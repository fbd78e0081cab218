"""Long runs continue-as-new when Temporal suggests it, losing no step, message or event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.client import SEARCH_ATTRIBUTES
from temporal.devserver import dev_server_extra_args, temporal_binary
from temporal.runs import get_run
from temporal.worker import build_worker
from tests.support.runs import demo_spec, events_of, run_agent
from workflows.types import ScriptTurn, ToolCall

pytestmark = pytest.mark.timeout(180)


@pytest_asyncio.fixture(scope="module")
async def small_history_env() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server that suggests continue-as-new after 40 history events (default: 4096)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=[
            *dev_server_extra_args(),
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=40",
        ],
    )
    yield env
    await env.shutdown()


async def test_a_long_run_hands_over_its_state_and_stream(
    small_history_env: WorkflowEnvironment, orch_settings: Settings, seeded: Any
) -> None:
    client = small_history_env.client
    calc = ToolCall(id="c", name="calculator", arguments={"expression": "6*7"})
    steps = 12
    script = (ScriptTurn(text="working", tool_calls=(calc,)),) * (steps - 1) + (
        ScriptTurn(text="done"),
    )
    spec = demo_spec(seeded, script=script, max_steps=steps)
    async with build_worker(client, orch_settings, TranscriptStore(seeded)):
        run_id, result = await run_agent(client, orch_settings, spec, "go")
        events = await events_of(client, run_id)
        view = await get_run(client, run_id)

    runs = [w async for w in client.list_workflows(f"WorkflowId = '{run_id}'")]
    statuses = [w.status for w in runs]
    assert statuses.count(WorkflowExecutionStatus.CONTINUED_AS_NEW) >= 2, statuses

    assert result.status == "completed" and result.answer == "done"
    assert result.steps == steps and result.tool_calls == steps - 1
    assert result.usage.total_tokens > 0
    assert view.status == "completed" and view.steps == steps

    bodies = [body for _, body in TranscriptStore(seeded).read(run_id)]
    assert len(bodies) == 1 + 2 * (steps - 1) + 1
    assert [b["role"] for b in bodies[:3]] == ["user", "assistant", "tool"]

    types = [e["type"] for e in events]
    assert types[0] == "run.started" and types[-1] == "run.completed"
    assert types.count("run.started") == 1
    assert types.count("llm.completed") == steps
    assert types.count("tool.completed") == steps - 1
