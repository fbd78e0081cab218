"""The transcripts the worker has read, kept so a run's next model step reads only what is new.

A model step needs the run's whole transcript before it. Entries never change once written (the
store is append-only, and the first write of a position wins), so the messages [0, k) one step
read are still those of the next, which reads only [k, seq) from the store. Without this, a run
of n steps reads about n²/2 entries in all. Bounded by a budget of characters over all the runs
it holds, least recently used out first; a run not held reads everything, as without it.

The worker's own writes extend what it holds too: the tool results its tool steps stored (as
stored: the first write of a position wins) and the prelude a model step stored. When what is
held reaches a model step's position, its first attempt reads nothing at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from workflows.types import TranscriptMessage

BUDGET_CHARS = 32_000_000  # about the text of the transcripts held, over all runs
ENTRY_OVERHEAD = 100  # characters counted for each message beyond its text and arguments


def size_of(messages: tuple[TranscriptMessage, ...]) -> int:
    return sum(
        ENTRY_OVERHEAD + len(m.text) + sum(len(str(call.arguments)) for call in m.tool_calls)
        for m in messages
    )


class TranscriptPrefixes:
    """Thread-safe: model steps read the store in threads."""

    def __init__(self, budget_chars: int = BUDGET_CHARS) -> None:
        self._budget = budget_chars
        self._held: OrderedDict[str, tuple[tuple[TranscriptMessage, ...], int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, run_id: str) -> tuple[TranscriptMessage, ...]:
        """The messages [0, k) of the run held here (k = their count; () when none)."""
        with self._lock:
            held = self._held.get(run_id)
            if held is None:
                return ()
            self._held.move_to_end(run_id)
            return held[0]

    def put(self, run_id: str, messages: tuple[TranscriptMessage, ...]) -> None:
        """Hold `messages`, the run's transcript [0, len(messages)). When they extend what is
        held, only the new ones are sized (a step does not walk the whole transcript again)."""
        with self._lock:
            self._hold(run_id, messages)

    def extend(self, run_id: str, seq: int, messages: tuple[TranscriptMessage, ...]) -> None:
        """`messages`, as stored at [seq, seq + len(messages)): held when they adjoin what is
        held (nothing is held with a gap; a run's first messages start at 0)."""
        with self._lock:
            held = self._held.get(run_id)
            known = held[0] if held is not None else ()
            if len(known) == seq:
                self._hold(run_id, known + messages)

    def _hold(self, run_id: str, messages: tuple[TranscriptMessage, ...]) -> None:
        old = self._held.pop(run_id, None)
        if old is not None:
            self._size -= old[1]
        if old is not None and len(old[0]) <= len(messages):
            size = old[1] + size_of(messages[len(old[0]) :])
        else:
            size = size_of(messages)
        if size > self._budget:
            return
        self._held[run_id] = (messages, size)
        self._size += size
        while self._size > self._budget:
            _, (_, dropped) = self._held.popitem(last=False)
            self._size -= dropped

    @property
    def runs(self) -> int:
        with self._lock:
            return len(self._held)
