"""The run's one state object: it decodes from what older runs carried, and continue-as-new
carries all of it."""

from __future__ import annotations

import json

from temporalio.converter import default

from workflows.types import LoopState, Usage

# RunInput.carry as the code before LoopState wrote it (tests/histories/continue_as_new_*.json).
OLD_CARRY = {
    "deadline": None,
    "invalid_tool_calls": 1,
    "last_text": "working",
    "model_choice": 1,
    "next_seq": 9,
    "repairs": 0,
    "steps": 4,
    "tool_calls": 4,
    "tool_errors": 2,
    "usage": {"cached_input_tokens": 0, "cost_usd": 0.5, "input_tokens": 100, "output_tokens": 12},
}


def test_an_old_carry_decodes_as_the_state() -> None:
    converter = default().payload_converter
    payload = converter.to_payloads([OLD_CARRY])[0]
    state = converter.from_payloads([payload], [LoopState])[0]
    assert state == LoopState(
        steps=4,
        next_seq=9,
        usage=Usage(input_tokens=100, output_tokens=12, cost_usd=0.5),
        last_text="working",
        tool_calls=4,
        model_choice=1,
        tool_errors=2,
        invalid_tool_calls=1,
    )
    assert state.status == "running" and state.stop_reason is None


def test_the_state_round_trips_whole_in_the_input() -> None:
    converter = default().payload_converter
    state = LoopState(steps=3, next_seq=7, usage=Usage(input_tokens=5), last_text="x")
    carried = json.loads(converter.to_payloads([state])[0].data)
    assert set(OLD_CARRY) <= set(carried)
    payloads = converter.to_payloads([carried])
    assert converter.from_payloads(payloads, [LoopState])[0] == state
