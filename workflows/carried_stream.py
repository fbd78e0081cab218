"""What continue-as-new carries of the run's event stream: the events of the execution that
continues, not the whole stream.

The run's events live in the workflow's memory (temporalio.contrib.workflow_streams). Carried
whole, the stream grows every execution's input until one passes Temporal's payload limit (2 MB by
default, near 1,100 small steps) and the run sticks. So each execution hands on only the events it
published itself (`own_events`): the events before them are in the input of the execution that
carried them in, and so on back to the first; the API reads them there (temporal/history.py).
An execution also continues as new once its events pass CARRY_LIMIT (`StreamMeter`), however
early, so no input nears the limit whatever the events hold (long answers, token deltas).

Both are behind the PATCH marker: a run recorded before it continues as it did (its whole stream
carried, continued only when Temporal suggests). Deterministic code only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.contrib.workflow_streams import PublishInput, WorkflowStreamState

from workflows import patches

PATCH: Final = patches.CARRY_OWN_EVENTS
# Bytes of stream items (in their carried form, base64) one execution may gather before it
# continues as new: with the run's spec and state, its successor's input stays far below 2 MB.
CARRY_LIMIT: Final = 1_000_000
# The signal through which activities publish into the stream (token deltas). The stream module
# keeps the name private; tests/workflows/test_carried_stream.py checks it is still this one.
PUBLISH_SIGNAL: Final = "__temporal_workflow_stream_publish"


def wire_size(payload: Payload) -> int:
    """The length of one item as the carried state holds it (base64 of the serialized Payload),
    within a few bytes."""
    return (payload.ByteSize() * 4 + 2) // 3


class StreamMeter:
    """How much this execution added to the stream, and how many items it was handed."""

    def __init__(self, prior: WorkflowStreamState | None) -> None:
        self.carried_in = len(prior.log) if prior is not None else 0
        self.bytes = 0

    def add(self, payload: Payload) -> None:
        self.bytes += wire_size(payload)

    def watch_publishes(self) -> None:
        """Count the items activities publish too. Call right after the stream is made (from
        `@workflow.init`): the stream's own handler still receives every batch."""
        handler = workflow.get_signal_handler(PUBLISH_SIGNAL)
        if handler is None:
            return
        stream_handler = handler

        def counted(payload: PublishInput) -> None:
            self.bytes += sum(len(item.data) for item in payload.items)
            stream_handler(payload)

        workflow.set_signal_handler(PUBLISH_SIGNAL, counted)

    @property
    def full(self) -> bool:
        return self.bytes >= CARRY_LIMIT


def own_events(state: WorkflowStreamState, carried_in: int) -> WorkflowStreamState:
    """The stream state without the `carried_in` items this execution was handed: its offsets
    start where this execution's own events did."""
    return replace(state, log=state.log[carried_in:], base_offset=state.base_offset + carried_in)
