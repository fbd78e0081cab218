"""Workers write dataclasses without their default fields (temporal/converter.py); payloads
read the same whether written that way or with every field."""

from __future__ import annotations

import json
from dataclasses import dataclass

from temporalio.converter import DataConverter

from temporal.converter import COMPACT
from temporal.worker import code_build_id
from workflows.types import LlmStepInput, LlmStepResult, ToolCall, TranscriptMessage, Usage


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
