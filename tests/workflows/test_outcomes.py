"""How a run ended lands in its runs row (the `record_outcome` local activity), each way the
loop ends: an answer, a policy stop, a failure, a cancellation."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from activities.outcomes import OutcomeWriter
from config_store.models import Run
from core.logs import JsonFormatter, RunContext
from core.settings import Settings
from tests.support.runs import (
    calculator_steps,
    demo_spec,
    patch_markers,
    run_agent,
    start_recorded_agent,
    stuck_spec,
)
from workflows.agent_run import AgentRun
from workflows.outcomes import PATCH, TOLERATE_FAILURE
from workflows.types import ScriptTurn, ToolCall

pytestmark = pytest.mark.usefixtures("worker")


def row_of(seeded: Any, run_id: str) -> Run:
    with seeded() as session:
        row = session.get(Run, run_id)
        assert row is not None
        session.expunge(row)
        return row


async def recorded_row(seeded: Any, run_id: str) -> Run:
    """The run's row once its outcome is written: the worker's writer thread writes it a moment
    after the run ended (activities/outcomes.py)."""
    for _ in range(100):
        row = row_of(seeded, run_id)
        if row.status is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"no outcome recorded for {run_id} within 5 s")


async def finish(client: Client, run_id: str) -> None:
    try:
        await client.get_workflow_handle(run_id).result()
    except WorkflowFailureError:
        pass


def local_activity_markers(history: Any) -> int:
    return sum(
        1
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    )


async def test_an_answered_run_records_its_outcome_in_one_marker(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    spec = demo_spec(seeded, script=calculator_steps(3))
    run_id = await start_recorded_agent(temporal_client, orch_settings, seeded, spec, "go")
    assert row_of(seeded, run_id).status is None  # not recorded while it runs
    await finish(temporal_client, run_id)
    row = await recorded_row(seeded, run_id)
    assert (row.status, row.steps, row.error) == ("completed", 3, None)
    assert row.total_tokens is not None and row.total_tokens > 0
    assert row.cost_usd == 0.0
    assert row.finished_at is not None and row.finished_at >= row.created_at
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    assert PATCH in patch_markers(history)
    # No activity task: the outcome is written by a local activity, in the last workflow task.
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert "record_outcome" not in scheduled
    assert local_activity_markers(history) >= 1


async def test_a_stopped_run_records_stopped(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    spec = demo_spec(seeded, script=calculator_steps(5), max_steps=2)
    run_id = await start_recorded_agent(temporal_client, orch_settings, seeded, spec, "go")
    await finish(temporal_client, run_id)
    row = await recorded_row(seeded, run_id)
    assert (row.status, row.steps) == ("stopped", 2)


async def test_a_failed_run_records_why(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    bad = ToolCall(id="x", name="calculator", arguments={"expression": "1/0"})
    script = (ScriptTurn(tool_calls=(bad,)), ScriptTurn(text="unreachable"))
    spec = demo_spec(seeded, script=script, on_tool_error="fail")
    run_id = await start_recorded_agent(temporal_client, orch_settings, seeded, spec, "go")
    await finish(temporal_client, run_id)
    row = await recorded_row(seeded, run_id)
    assert row.status == "failed" and row.steps == 1
    assert row.error and len(row.error) <= 500


async def test_a_cancelled_run_records_cancelled(
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = stuck_spec(seeded, monkeypatch)
    run_id = await start_recorded_agent(temporal_client, orch_settings, seeded, spec, "hi")
    await asyncio.sleep(1.0)  # the model is unreachable: the step is being retried
    await temporal_client.get_workflow_handle(run_id).cancel()
    await finish(temporal_client, run_id)
    row = await recorded_row(seeded, run_id)
    assert (row.status, row.steps, row.total_tokens) == ("cancelled", 1, 0)
    assert row.finished_at is not None


async def test_a_run_without_a_row_records_nothing_and_ends_as_ever(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id, result = await run_agent(temporal_client, orch_settings, demo_spec(seeded), "6*7?")
    assert result.status == "completed"
    with seeded() as session:
        assert session.get(Run, run_id) is None


async def test_an_outcome_that_cannot_be_recorded_is_logged_with_the_runs_fields(
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The workflow's one log record (its outcome could not be written) names the run, agent and
    step as an activity's records do, and the run still ends as it would have."""

    def refuse(self: OutcomeWriter, outcome: Any) -> None:
        raise ApplicationError("the runs table is read-only", non_retryable=True)

    monkeypatch.setattr(OutcomeWriter, "submit", refuse)
    spec = demo_spec(seeded)
    with caplog.at_level(logging.WARNING):
        run_id = await start_recorded_agent(temporal_client, orch_settings, seeded, spec, "6*7?")
        handle = temporal_client.get_workflow_handle_for(AgentRun.run, run_id)
        result = await handle.result()
    assert result.status == "completed"  # it failed the run before patch TOLERATE_FAILURE
    assert TOLERATE_FAILURE in patch_markers(await handle.fetch_history())
    [record] = [r for r in caplog.records if r.getMessage().startswith("could not record")]
    RunContext().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["run_id"] == run_id, line
    assert (line["agent"], line["step"], line["workflow"]) == (spec.name, 2, "AgentRun"), line
