"""The lines `orch run` prints for a person watching a run."""

from __future__ import annotations

from orch.terminal import format_event


def test_a_sub_agents_events_are_indented_under_the_parents() -> None:
    child = {
        "type": "tool.completed",
        "step": 1,
        "data": {"name": "calculator", "ok": True, "result": "42"},
    }
    relayed = {"type": "subagent.event", "step": 1, "data": {"run_id": "c", "event": child}}
    nested = {"type": "subagent.event", "step": 1, "data": {"run_id": "p", "event": relayed}}

    assert format_event(relayed) == "    | step 1   calculator: 42"
    assert format_event(nested) == "        | step 1   calculator: 42"
    quiet = {"type": "subagent.event", "step": 1, "data": {"event": {"type": "step.started"}}}
    assert format_event(quiet) is None
