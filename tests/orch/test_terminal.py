"""The lines `orch run` prints for a person watching a run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from orch.cli import _parser
from orch.client import AsyncOrch, RunEvent
from orch.follow import Follower
from orch.terminal import format_event
from temporal.replay import plain
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


def test_text_already_shown_is_not_printed_again() -> None:
    completed = {
        "type": "llm.completed",
        "step": 2,
        "data": {"text": "It is 42.", "tool_calls": []},
    }
    assert format_event(completed) == "step 2 model: It is 42."
    assert format_event(completed, shown="It is 42.") is None  # streamed already
    assert format_event(completed, shown="It is") == "step 2 model: It is 42."  # deltas lost
    ended = {
        "type": "run.completed",
        "step": 2,
        "data": {
            "stop_reason": "answer",
            "steps": 2,
            "usage": {"total_tokens": 30},
            "answer": "It is 42.",
        },
    }
    assert format_event(ended) == "completed (answer, 2 steps, 30 tokens): It is 42."
    assert format_event(ended, shown="It is 42.") == "completed (answer, 2 steps, 30 tokens)"


def test_a_retry_is_a_line() -> None:
    retrying = {
        "type": "llm.retrying",
        "step": 2,
        "data": {
            "attempt": 2,
            "error": "openai provider 'p' (model m) answered 503",
            "error_type": "ProviderUnavailable",
            "retry_in_s": 1.0,
        },
    }
    assert format_event(retrying) == (
        "step 2: openai provider 'p' (model m) answered 503, retrying in 1.0 s (attempt 2)"
    )


def test_escape_codes_are_stripped() -> None:
    assert plain("\x1b[2m2026\x1b[0m \x1b[33m WARN\x1b[0m x") == "2026  WARN x"


class _Events:
    """An AsyncOrch stand-in that replays a list of events (the Follower only reads them)."""

    def __init__(self, events: list[RunEvent]) -> None:
        self._events = events

    async def events(self, run_id: str, *, tokens: bool = False) -> AsyncIterator[RunEvent]:
        for event in self._events:
            yield event


def _relayed(offset: int, child: str, event: dict[str, Any]) -> RunEvent:
    return RunEvent(
        offset=offset,
        type="subagent.event",
        step=1,
        data={"run_id": child, "call_id": "c1", "event": event},
    )


async def test_a_sub_agents_answer_prints_once(capsys: pytest.CaptureFixture[str]) -> None:
    answer = "Paris is the capital."
    usage = {"total_tokens": 12, "cost_usd": 0}
    end = {"stop_reason": "responded", "steps": 1, "usage": usage}
    child_said = {"type": "llm.completed", "step": 1, "data": {"text": answer, "tool_calls": []}}
    child_done = {"type": "run.completed", "step": 1, "data": {**end, "answer": answer}}
    events = [
        _relayed(0, "child-1", child_said),
        _relayed(1, "child-1", child_done),
        # a grandchild's, wrapped twice, with its own text
        _relayed(
            2,
            "child-1",
            {
                "type": "subagent.event",
                "data": {
                    "run_id": "grandchild",
                    "event": {**child_done, "data": {**end, "answer": "other"}},
                },
            },
        ),
        RunEvent(offset=3, type="run.completed", step=2, data={**end, "answer": "done"}),
    ]
    follower = Follower(cast(AsyncOrch, _Events(events)), "parent", interactive=False)

    assert await follower.follow() == 0
    out = capsys.readouterr().out
    assert out.count(answer) == 1, out
    assert "    | completed (responded, 1 steps, 12 tokens)\n" in out
    assert "other" in out  # a text not shown before still prints
