"""A run's whole event stream as a client reads it: the events earlier executions handed on,
then the current execution's, live.

The workflow stream of the current execution holds only the events it published and the ones
its predecessor handed on (workflows/carried_stream.py); a subscriber that starts below that
base, or falls behind a continue-as-new, gets the items from the base on. The gap is read from
the inputs of the earlier executions (temporal/history.py), so every reader gets every event
once, in offset order, from 0.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.contrib.workflow_streams import WorkflowStreamClient

from temporal.history import carried_items
from workflows.types import EVENTS_TOPIC

# The SDK's default pause between two polls once a subscriber has caught up.
DEFAULT_COOLDOWN = timedelta(milliseconds=100)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamItem:
    offset: int  # its place in the run's stream (the SSE `id`)
    event: dict[str, Any]  # the RunEvent as published: type, run_id, step, time, data


async def run_events(
    client: Client, run_id: str, *, poll_cooldown: timedelta = DEFAULT_COOLDOWN
) -> AsyncIterator[StreamItem]:
    """Every event of the run from offset 0, live, until its workflow closes (a caller stops at
    the terminal event)."""
    stream = WorkflowStreamClient.create(client, run_id)
    expected = 0  # the offset of the next event
    async for item in stream.subscribe([EVENTS_TOPIC], poll_cooldown=poll_cooldown):
        if item.offset < expected:  # handed out again: the poll restarted from the base
            continue
        if item.offset > expected:  # published by an earlier execution of the run
            carried = await carried_items(client, run_id, expected, item.offset)
            missing = item.offset - expected - len(carried)
            if missing:
                log.warning(
                    "run %s: %d of its events %d..%d are not in its history",
                    run_id,
                    missing,
                    expected,
                    item.offset - 1,
                )
            for offset in sorted(carried):
                yield StreamItem(offset, carried[offset])
        expected = item.offset + 1
        yield StreamItem(item.offset, item.data)
