"""The lines `orch run` prints for a person watching a run."""

from __future__ import annotations

from orch.cli import _parser
from orch.terminal import format_event
from temporal.visibility import decode_page_token, encode_page_token


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


def test_a_page_token_that_starts_with_a_dash_parses_as_printed() -> None:
    tokens = (n.to_bytes(4, "big") for n in range(10_000))
    raw = next(t for t in tokens if encode_page_token(t).startswith("-"))
    token = encode_page_token(raw)
    args = _parser().parse_args(["runs", f"--page-token={token}"])
    assert decode_page_token(args.page_token) == raw
