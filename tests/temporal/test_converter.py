"""Workers write dataclasses without their default fields (temporal/converter.py); payloads
read the same whether written that way or with every field, and as Temporal's own converter
reads them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter

from temporal.converter import COMPACT, dataclass_fields
from temporal.worker import code_build_id
from workflows.types import (
    AgentSpec,
    LlmStepInput,
    LlmStepResult,
    RecordInput,
    RunInput,
    RunOutcome,
    SubagentRequest,
    ToolCall,
    ToolCallInput,
    ToolOutcome,
    TranscriptMessage,
    Usage,
)

HISTORIES = Path(__file__).resolve().parent.parent / "histories"


def written(value: object) -> dict[str, object]:
    return json.loads(COMPACT.payload_converter.to_payloads([value])[0].data)


def test_fields_at_their_defaults_are_left_out_nested_ones_too() -> None:
    result = LlmStepResult(
        model="m",
        tool_calls=(ToolCall(id="c1", name="calculator", arguments={"expression": "6*7"}),),
        usage=Usage(input_tokens=10, output_tokens=5),
    )
    assert written(result) == {
        "model": "m",
        "tool_calls": [{"arguments": {"expression": "6*7"}, "id": "c1", "name": "calculator"}],
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    step = LlmStepInput(run_id="run-1", seq=3, step=2)
    assert written(step) == {"run_id": "run-1", "seq": 3, "step": 2}


def test_compact_and_full_payloads_read_back_equal() -> None:
    values = [
        LlmStepResult(text="done", usage=Usage(input_tokens=3, cost_usd=0.25)),
        LlmStepResult(),
        LlmStepInput(
            run_id="run-1",
            seq=1,
            step=1,
            prelude=(TranscriptMessage(role="user", text="hi"),),
            stream_tokens=True,
        ),
    ]
    full = DataConverter.default.payload_converter
    for value in values:
        for converter in (COMPACT.payload_converter, full):
            payload = converter.to_payloads([value])[0]
            # Either kind of payload reads back, with either converter.
            assert COMPACT.payload_converter.from_payloads([payload], [type(value)]) == [value]
            assert full.from_payloads([payload], [type(value)]) == [value]
    assert len(COMPACT.payload_converter.to_payloads([values[1]])[0].data) == 2  # "{}"


@dataclass(frozen=True)
class Flags:
    count: int = 0
    on: bool | int = 0


def test_a_value_of_another_type_than_its_default_is_written() -> None:
    # False equals 0, but reading back 0 would change the value's type: it is written.
    assert written(Flags(on=False)) == {"on": False}
    assert written(Flags(count=0, on=0)) == {}
    assert COMPACT.payload_converter.from_payloads(
        COMPACT.payload_converter.to_payloads([Flags(on=False)]), [Flags]
    ) == [Flags(on=False)]


def test_the_worker_build_id_is_short_and_follows_the_code() -> None:
    build_id = code_build_id()
    assert len(build_id) == 12 and int(build_id, 16) >= 0


# What each activity of the worker takes and returns, by its registered name.
ACTIVITY_TYPES: dict[str, tuple[type, type | None]] = {
    "llm_step": (LlmStepInput, LlmStepResult),
    "tool_call": (ToolCallInput, ToolOutcome),
    "transcript_record": (RecordInput, None),
    "resolve_subagent": (SubagentRequest, AgentSpec),
    "record_outcome": (RunOutcome, None),
}


def corpus_payloads() -> list[tuple[str, Payload, type]]:
    """Every workflow input, activity input and activity result of the recorded histories,
    with the type the worker reads it as."""
    found: list[tuple[str, Payload, type]] = []
    for path in sorted(HISTORIES.glob("*.json")):
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        scheduled: dict[int, str] = {}
        for event in history.events:
            where = f"{path.stem}#{event.event_id}"
            if event.HasField("workflow_execution_started_event_attributes"):
                started = event.workflow_execution_started_event_attributes
                found += [(where, p, RunInput) for p in started.input.payloads]
            elif event.HasField("activity_task_scheduled_event_attributes"):
                attrs = event.activity_task_scheduled_event_attributes
                scheduled[event.event_id] = name = attrs.activity_type.name
                found += [(where, p, ACTIVITY_TYPES[name][0]) for p in attrs.input.payloads]
            elif event.HasField("activity_task_completed_event_attributes"):
                attrs_done = event.activity_task_completed_event_attributes
                result_type = ACTIVITY_TYPES[scheduled[attrs_done.scheduled_event_id]][1]
                if result_type is not None:
                    found += [(where, p, result_type) for p in attrs_done.result.payloads]
    return found


def test_the_worker_reads_every_recorded_payload_as_temporals_converter_does() -> None:
    """DataclassHints (type hints resolved once a class) against Temporal's own reading."""
    payloads = corpus_payloads()
    kinds = {hint for _, _, hint in payloads}
    assert {RunInput, LlmStepInput, LlmStepResult, ToolCallInput, ToolOutcome} <= kinds
    assert len(payloads) > 200
    sdk = DataConverter.default.payload_converter
    dataclass_fields.cache_clear()
    for where, payload, hint in payloads:
        ours = COMPACT.payload_converter.from_payloads([payload], [hint])
        assert ours == sdk.from_payloads([payload], [hint]), where
        assert type(ours[0]) is hint
    # Each class's hints were resolved once, then reused.
    info = dataclass_fields.cache_info()
    assert info.currsize >= len(kinds) and info.hits > 10 * info.misses


def test_a_payload_that_does_not_fit_its_dataclass_is_refused_as_temporal_refuses_it() -> None:
    bad = DataConverter.default.payload_converter.to_payloads([{"text": "x", "usage": 5}])
    for converter in (COMPACT.payload_converter, DataConverter.default.payload_converter):
        with pytest.raises(TypeError, match="Failed converting field usage on dataclass"):
            converter.from_payloads(bad, [LlmStepResult])
