"""Budgets stop a runaway agent with the right reason; structured output is checked and repaired."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from core.settings import Settings
from temporal.runs import get_run
from tests.support.runs import demo_spec, events_of, run_agent, start_agent
from workflows.types import ModelPrice, ProviderSpec, ScriptTurn, ToolCall

pytestmark = pytest.mark.usefixtures("worker")

CALC = ToolCall(id="c", name="calculator", arguments={"expression": "1+1"})
FOREVER = (ScriptTurn(text="still going", tool_calls=(CALC,)),) * 400


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ({"max_steps": 4}, "max_steps"),
        ({"max_total_tokens": 150}, "budget_tokens"),
        ({"max_cost_usd": 0.0005}, "budget_cost"),
        ({"max_duration_s": 2.0}, "deadline"),
    ],
)
async def test_a_looping_agent_stops_at_each_limit(
    limits: dict[str, Any],
    reason: str,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    offline = ProviderSpec(
        name="offline",
        kind="scripted",
        prices=(ModelPrice(model="scripted-demo", input_usd_per_mtok=10, output_usd_per_mtok=10),),
    )
    spec = demo_spec(seeded, provider=offline, script=FOREVER, **{"max_steps": 1000, **limits})
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "loop")
    assert result.status == "stopped" and result.stop_reason == reason
    assert result.answer == "still going"  # the best partial answer, not silence
    events = await events_of(temporal_client, run_id)
    assert events[-1]["type"] == "run.stopped"
    assert events[-1]["data"]["stop_reason"] == reason
    usage = result.usage
    if reason == "budget_tokens":
        assert usage.total_tokens >= 150
        # it stopped at the first step that reached the budget
        assert usage.total_tokens - 150 < usage.total_tokens / result.steps + 1
    if reason == "budget_cost":
        assert usage.cost_usd >= 0.0005
    if reason == "max_steps":
        assert result.steps == 4


OBJECT = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}, "unit": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


async def test_an_invalid_answer_is_repaired_and_the_parsed_object_returned(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    script = (
        ScriptTurn(text="The answer is 84"),
        ScriptTurn(text='{"answer": "84"}'),
        ScriptTurn(text='```json\n{"answer": 84}\n```'),
    )
    spec = demo_spec(seeded, script=script, output_schema=OBJECT)
    run_id, result = await run_agent(temporal_client, orch_settings, spec, "12*7 as JSON")
    assert result.status == "completed" and result.output == {"answer": 84}
    events = await events_of(temporal_client, run_id)
    invalid = [e["data"] for e in events if e["type"] == "output.invalid"]
    assert [i["repair"] for i in invalid] == [1, 2]
    assert "not JSON" in invalid[0]["errors"][0]
    assert "is not of type 'integer'" in invalid[1]["errors"][0]
    assert events[-1]["data"]["output"] == {"answer": 84}
    view = await get_run(temporal_client, run_id)
    assert view.output == {"answer": 84}


async def test_an_answer_that_stays_invalid_fails_the_run_with_the_errors(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    spec = demo_spec(
        seeded,
        script=(ScriptTurn(text='{"answer": 1, "extra": true}'),) * 5,
        output_schema=OBJECT,
        max_output_repairs=1,
    )
    run_id = await start_agent(temporal_client, orch_settings, spec, "go")
    with pytest.raises(WorkflowFailureError):
        await temporal_client.get_workflow_handle(run_id).result()
    events = await events_of(temporal_client, run_id)
    assert [e["type"] for e in events].count("output.invalid") == 1
    failed = events[-1]["data"]
    assert failed["error_type"] == "OutputSchemaViolation"
    assert "Additional properties are not allowed" in failed["error"]
    view = await get_run(temporal_client, run_id)
    assert view.status == "failed" and view.error is not None and "extra" in view.error
