from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from config_store.call_ledger import start_call
from config_store.models import ToolCallLedger
from config_store.transcript import TranscriptStore


def msg(text: str, role: str = "user") -> dict[str, Any]:
    return {"role": role, "text": text}


def test_append_read_get(session_factory: sessionmaker[Session]) -> None:
    store = TranscriptStore(session_factory)
    assert store.append("r", 0, [msg("a"), msg("b", "assistant")]) == [
        msg("a"),
        msg("b", "assistant"),
    ]
    store.append("r", 2, [msg("c", "tool")])
    store.append("other", 0, [msg("x")])
    assert store.read("r") == [(0, msg("a")), (1, msg("b", "assistant")), (2, msg("c", "tool"))]
    assert store.read("r", upto=2) == [(0, msg("a")), (1, msg("b", "assistant"))]
    assert store.read("nope") == []
    assert store.get("r", 1) == msg("b", "assistant")
    assert store.get("r", 7) is None
    assert store.append("r", 3, []) == []


def test_first_write_wins(session_factory: sessionmaker[Session]) -> None:
    store = TranscriptStore(session_factory)
    store.append("r", 0, [msg("first")])
    assert store.append("r", 0, [msg("second")]) == [msg("first")]
    # Partly overlapping: the stored seq keeps its body, the new one is written.
    assert store.append("r", 0, [msg("again"), msg("next")]) == [msg("first"), msg("next")]
    assert store.read("r") == [(0, msg("first")), (1, msg("next"))]


def _race(store: TranscriptStore, run_id: str, writers: int) -> dict[int, list[dict[str, Any]]]:
    """`writers` threads append overlapping ranges at the same moment (writer n from seq n % 2)."""
    barrier = threading.Barrier(writers)
    results: dict[int, list[dict[str, Any]]] = {}
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            results[n] = store.append(run_id, n % 2, [msg(f"w{n}-{i}") for i in range(3)])
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    return results


def test_racing_writers_agree(session_factory: sessionmaker[Session]) -> None:
    store = TranscriptStore(session_factory)
    for round_ in range(5):
        run_id = f"race-{round_}"
        results = _race(store, run_id, writers=6)
        stored = dict(store.read(run_id))
        assert sorted(stored) == [0, 1, 2, 3]
        assert len(results) == 6
        for n, got in results.items():
            assert got == [stored[n % 2 + i] for i in range(3)]


def finished(factory: sessionmaker[Session], run_id: str, seq: int) -> bool:
    with factory() as session:
        row = session.get(ToolCallLedger, (run_id, seq))
        assert row is not None
        return row.finished_at is not None


def test_only_a_finishing_append_finishes_its_call(session_factory: sessionmaker[Session]) -> None:
    store = TranscriptStore(session_factory)
    for seq in (0, 2, 3):
        assert start_call(session_factory, "r", seq, f"c{seq}", 1) == "go"
    store.append("r", 0, [msg("a", "tool"), msg("b", "tool")])  # two rows
    store.append("r", 3, [msg("d", "tool")])  # one row
    assert not finished(session_factory, "r", 0) and not finished(session_factory, "r", 3)
    store.append("r", 2, [msg("c", "tool")], finishing=True)
    assert finished(session_factory, "r", 2) and not finished(session_factory, "r", 0)
    assert [seq for seq, _ in store.read("r")] == [0, 1, 2, 3]
