"""What a run's workflow history tells without a worker: how it started, and the events its
stream handed out.

The run's events live in the workflow's memory; Temporal's history holds copies of them in two
places a client can read with no worker: every long-poll Update of the stream that completed
(its result is the batch of items it delivered, with their offsets), and the stream state a
continue-as-new carried into an execution's input (each execution's input holds the events of
the one before it). Events of the current execution no subscriber polled are in neither: only
the worker has them.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import (
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import Client
from temporalio.contrib.workflow_streams import PollResult

from activities.started import started_event
from workflows.events import LlmDelta
from workflows.types import EVENTS_TOPIC, RunInput

# Each history read; the reads run one after the other, at most MAX_PAGES + 1 of them.
READ_TIMEOUT = timedelta(seconds=1)
PAGE_SIZE = 200  # history events per page, read newest first
MAX_PAGES = 2
# Reading what continue-as-new carried: each execution's input (up to ~1.3 MB), one at a time.
CARRIED_READ_TIMEOUT = timedelta(seconds=10)
MAX_EXECUTIONS = 100_000  # a bound on the walk back, far past any real chain


@dataclass(frozen=True)
class PublishedEvent:
    """One event of the run's stream as a subscriber received it; `offset` is its SSE `id`."""

    offset: int
    type: str
    step: int | None = None
    time: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


async def start_input(client: Client, run_id: str) -> RunInput | None:
    """The input of the run's current execution (its first history event), or None if it
    cannot be decoded."""
    started = await _started(client, run_id, "", READ_TIMEOUT)
    return started[0] if started is not None else None


async def carried_items(client: Client, run_id: str, start: int, end: int) -> dict[int, Any]:
    """The run's stream items at offsets [start, end), decoded (a RunEvent's dict), that
    continue-as-new carried: each execution's input holds the events of the execution before
    it (workflows/carried_stream.py; all events so far, for runs started before that). Read from
    the current execution back to the first, as far as `start` needs. Items that are not the
    run's events, or do not decode, are left out."""
    found: dict[int, Any] = {}
    execution = ""
    for _ in range(MAX_EXECUTIONS):
        started = await _started(client, run_id, execution, CARRIED_READ_TIMEOUT)
        if started is None:
            break
        input, previous = started
        state = input.stream_state if input is not None else None
        if state is None:
            break
        for index, item in enumerate(state.log):
            offset = state.base_offset + index
            if start <= offset < end and item.topic == EVENTS_TOPIC:
                value = _decode(client, item.data)
                if value is not None:
                    found[offset] = value
        if state.base_offset <= start or not previous:
            break
        execution = previous
    return found


async def _started(
    client: Client, run_id: str, execution: str, timeout: timedelta
) -> tuple[RunInput | None, str] | None:
    """(input, the run id of the execution it continued, or "") of one execution of the run
    (`execution` "": the current one); None if its history has no start."""
    attributes = await started_event(client, run_id, execution, timeout)
    if attributes is None:
        return None
    previous = attributes.continued_execution_run_id
    try:
        [value] = await client.data_converter.decode(attributes.input.payloads, [RunInput])
    except Exception:  # a workflow not started by us: nothing to tell
        return None, previous
    return (value if isinstance(value, RunInput) else None), previous


async def last_events(
    client: Client, run_id: str, *, limit: int, carried: RunInput | None = None
) -> list[PublishedEvent]:
    """The newest `limit` events of the run's stream that its history holds, oldest first, token
    deltas left out:
    from the stream polls that completed in the newest MAX_PAGES pages of history, and from
    the stream state `carried` in (the current execution's input)."""
    found: dict[int, PublishedEvent] = {}
    if carried is not None and carried.stream_state is not None:
        for item in carried.stream_state.log:
            _add(found, client, item.topic, item.data, item.offset)
    token = b""
    for _ in range(MAX_PAGES):
        request = GetWorkflowExecutionHistoryReverseRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=run_id),
            maximum_page_size=PAGE_SIZE,
            next_page_token=token,
        )
        response = await client.workflow_service.get_workflow_execution_history_reverse(
            request, timeout=READ_TIMEOUT
        )
        for event in response.history.events:
            if event.event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                continue
            outcome = event.workflow_execution_update_completed_event_attributes.outcome
            if not outcome.HasField("success"):
                continue
            for item in await _poll_items(client, list(outcome.success.payloads)):
                _add(found, client, item.topic, item.data, item.offset)
        token = response.next_page_token
        if not token or len(found) >= limit:
            break
    return [found[offset] for offset in sorted(found)[-limit:]] if limit > 0 else []


async def _poll_items(client: Client, payloads: list[Payload]) -> list[Any]:
    """The items of a stream poll's result. Other Updates' results (approvals, answers) have
    none of PollResult's fields and read as an empty one."""
    if len(payloads) != 1:
        return []
    try:
        [result] = await client.data_converter.decode(payloads, [PollResult])
    except Exception:
        return []
    return list(result.items) if isinstance(result, PollResult) else []


def _decode(client: Client, wire: str) -> dict[str, Any] | None:
    """One stream item (base64 of a serialized Payload, the stream's wire form) as the RunEvent
    dict it holds; None if it is not one."""
    try:
        payload = Payload()
        payload.ParseFromString(base64.b64decode(wire, validate=True))
        data = client.data_converter.payload_converter.from_payload(payload)
    except (binascii.Error, DecodeError, ValueError, TypeError, RuntimeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        return None
    return data


def _add(
    found: dict[int, PublishedEvent], client: Client, topic: str, wire: str, offset: int
) -> None:
    if topic != EVENTS_TOPIC or offset in found:
        return
    data = _decode(client, wire)
    if data is None or data["type"] == LlmDelta.type:  # token deltas are not the run's record
        return
    step = data.get("step")
    time = data.get("time")
    body = data.get("data")
    found[offset] = PublishedEvent(
        offset=offset,
        type=data["type"],
        step=step if isinstance(step, int) else None,
        time=time if isinstance(time, str) else None,
        data=body if isinstance(body, dict) else {},
    )
