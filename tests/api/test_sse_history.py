"""What an events stream sends from Temporal's history when no worker polls the run's task queue
(api/sse.py from_history): the events that follow the reader's offset without a gap, up to a
terminal one, so that the live events that come later neither repeat nor skip any."""

from __future__ import annotations

from api.sse import from_history
from temporal.history import PublishedEvent


def held(*offsets: int, terminal: int | None = None) -> list[PublishedEvent]:
    return [
        PublishedEvent(
            offset=n,
            type="run.completed" if n == terminal else "step.started",
            step=n,
            time="2026-12-01T12:00:00+00:00",
            data={"seq": n},
        )
        for n in offsets
    ]


def test_the_events_after_the_reader_without_a_gap() -> None:
    events = held(0, 1, 2, 3)
    assert [e.offset for e in from_history("run-1", events, None)] == [0, 1, 2, 3]
    assert [e.offset for e in from_history("run-1", events, 1)] == [2, 3]
    assert from_history("run-1", events, 3) == []


def test_a_gap_ends_them_the_rest_come_live() -> None:
    # The history lost the oldest polls: nothing is sent before offset 0 is.
    assert from_history("run-1", held(5, 6), None) == []
    assert [e.offset for e in from_history("run-1", held(0, 1, 4), None)] == [0, 1]
    assert [e.offset for e in from_history("run-1", held(5, 6), 4)] == [5, 6]


def test_the_terminal_event_ends_them_and_the_data_is_the_stream_s() -> None:
    sent = from_history("run-1", held(0, 1, 2, terminal=1), None)
    assert [e.type for e in sent] == ["step.started", "run.completed"]
    assert sent[1].data == {
        "type": "run.completed",
        "run_id": "run-1",
        "step": 1,
        "time": "2026-12-01T12:00:00+00:00",
        "data": {"seq": 1},
    }
