"""Whether anyone follows the run's stream: the model activity sends token deltas only then.

Each token-delta batch is a signal, a workflow task and history, worth paying only while a
subscriber reads them. A subscriber (the API's one feed per run, `orch run`) long-polls the
stream with its poll Update, so the workflow sees it: `StreamWatch` wraps the stream's poll
handler (keeping its validator) and records polls in flight and when the last one came. A model
call then carries `stream_tokens`: True while a poll is in flight or one came in the last
`RECENT` (a subscriber between two polls). Behind the PATCH marker: a run recorded before it
asks for deltas at every step, as it did. Deterministic code only (workflow time).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Final

from temporalio import workflow
from temporalio.contrib.workflow_streams import PollInput, PollResult

from workflows import patches

PATCH: Final = patches.DELTAS_WHEN_WATCHED
# The stream's long-poll Update. The stream module keeps the name private;
# tests/workflows/test_deltas_when_watched.py checks it is still this one.
POLL_UPDATE: Final = "__temporal_workflow_stream_poll"
# A subscriber re-polls right after each answer (20 ms in the API's feed, ~100 ms in the SDK):
# a poll this recent still counts as someone watching.
RECENT: Final = timedelta(seconds=2)


class StreamWatch:
    def __init__(self) -> None:
        self.in_flight = 0
        self.last_poll: datetime | None = None

    def watch(self) -> None:
        """Call right after the stream is made (from `@workflow.init`): the stream's own
        handler and validator still see every poll."""
        handler = workflow.get_update_handler(POLL_UPDATE)
        if handler is None:
            return
        stream_poll: Callable[[PollInput], Awaitable[PollResult]] = handler
        # No public getter for a validator: the stream's own (it refuses polls once detached).
        validator: Callable[[Any], None] | None = (
            workflow._Runtime.current().workflow_get_update_validator(POLL_UPDATE)
        )

        async def watched(payload: PollInput) -> PollResult:
            self.in_flight += 1
            self.last_poll = workflow.now()
            try:
                return await stream_poll(payload)
            finally:
                self.in_flight -= 1
                self.last_poll = workflow.now()

        workflow.set_update_handler(POLL_UPDATE, watched, validator=validator)

    def watched(self) -> bool:
        """A poll is in flight, or the last one came within RECENT."""
        if self.in_flight:
            return True
        return self.last_poll is not None and workflow.now() - self.last_poll <= RECENT

    def stream_tokens(self) -> bool:
        """What a model call scheduled now should do with its token deltas."""
        if not patches.patched(PATCH):
            return True
        return self.watched()
