"""Publishing the run's events: on its own stream, and, for a sub-agent run, to its parent.

A child run forwards its events to its parent in order, one signal per batch of events published
together; the parent relays them on its own stream as `subagent.event`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.contrib.workflow_streams import WorkflowTopicHandle
from temporalio.exceptions import FailureError

from workflows.carried_stream import StreamMeter
from workflows.events import EventPayload, event_data
from workflows.run_state import Run
from workflows.stream_watch import StreamWatch
from workflows.types import ChildEvents, RunEvent

# The parent's signal that receives a child's events (AgentRun.child_events).
ChildEventsSignal = Callable[[Any, ChildEvents], Awaitable[None] | None]


class Publisher:
    def __init__(
        self,
        run: Run,
        topic: WorkflowTopicHandle[RunEvent],
        signal: ChildEventsSignal,
        meter: StreamMeter,
        *,
        watch: StreamWatch | None = None,
    ) -> None:
        self._run = run
        self._watch = watch
        self._topic = topic
        self._meter = meter
        self._signal = signal
        self._parent = run.input.parent_run_id
        self._outbox: list[RunEvent] = []
        self._forwarding = False
        self._forwarder: asyncio.Task[None] | None = None  # a reference keeps the task alive

    def publish(self, payload: EventPayload) -> None:
        event = RunEvent(
            type=payload.type,
            run_id=self._run.run_id,
            step=self._run.state.steps,
            time=workflow.now().isoformat(),
            data=event_data(payload),
        )
        item = workflow.payload_converter().to_payloads([event])[0]
        self._meter.add(item)
        self._topic.publish(item)
        if self._parent is not None:
            self._outbox.append(event)
            if not self._forwarding:
                self._forwarding = True
                self._forwarder = asyncio.create_task(self._forward(self._parent))

    def stream_tokens(self) -> bool:
        """Whether a model call scheduled now should publish its token deltas: only while
        someone follows the stream (workflows/stream_watch.py)."""
        return self._watch is None or self._watch.stream_tokens()

    async def forwarded(self) -> None:
        """Wait until the parent has every event published so far."""
        await workflow.wait_condition(lambda: not self._forwarding)

    async def _forward(self, parent: str) -> None:
        """Signal the parent the events published so far, batch by batch, in order. A parent
        that is gone (terminated) no longer listens: the rest is dropped."""
        handle = workflow.get_external_workflow_handle(parent)
        try:
            while self._outbox:
                batch = ChildEvents(run_id=self._run.run_id, events=tuple(self._outbox))
                self._outbox.clear()
                await handle.signal(self._signal, batch)
        except FailureError:
            self._parent = None
            self._outbox.clear()
        finally:
            self._forwarding = False
