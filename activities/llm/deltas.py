"""Token deltas, published from the model activity into the run's event stream.

Best-effort by design: batched (at most every 100 ms) into signals to the run's workflow
stream, and never allowed to fail or hold up the model call. The completed message, written to
the transcript and published by the workflow as `llm.completed`, is the durable record. The
stream client is made on the first delta, so a model call that streams no text costs nothing.

Only while someone follows the stream: the provider is given `publish` as its `on_delta` only
for a call the workflow scheduled with `stream_tokens` (workflows/stream_watch.py); any other
call is made without streaming (activities/llm/activity.py `streams`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.contrib.workflow_streams import TopicHandle, WorkflowStreamClient

from workflows.events import LlmRetrying, event_data
from workflows.types import EVENTS_TOPIC, LlmStepInput, RunEvent

BATCH_INTERVAL = timedelta(milliseconds=100)
FLUSH_TIMEOUT_S = 5.0

log = logging.getLogger(__name__)


class DeltaPublisher:
    def __init__(self, input: LlmStepInput, attempt: int) -> None:
        self._run_id = input.run_id
        self._step = input.step
        self._attempt = attempt
        self._stream: WorkflowStreamClient | None = None
        self._topic: TopicHandle[Any] | None = None
        self._started: asyncio.Future[Any] | None = None
        self._unavailable = False

    def publish(self, text: str) -> None:
        """The provider's `on_delta`: buffer one fragment (never blocks, never raises)."""
        if not text:
            return
        # A retried attempt streams its text again: `attempt` tells the two apart.
        self._send("llm.delta", {"text": text, "attempt": self._attempt}, force_flush=False)

    def announce(self, payload: LlmRetrying) -> None:
        """Publish an event of the activity's own (`llm.retrying`) at once, deltas or not."""
        self._send(payload.type, event_data(payload), force_flush=True)

    def _send(self, kind: str, data: dict[str, Any], *, force_flush: bool) -> None:
        if self._unavailable:
            return
        event = RunEvent(
            type=kind,
            run_id=self._run_id,
            step=self._step,
            time=datetime.now(UTC).isoformat(),
            data=data,
        )
        if self._topic is None:
            try:
                stream = WorkflowStreamClient.from_within_activity(batch_interval=BATCH_INTERVAL)
            except RuntimeError:  # not run by a worker for a workflow (unit tests): no stream
                self._unavailable = True
                return
            self._stream = stream
            self._started = asyncio.ensure_future(stream.__aenter__())  # starts its flusher
            self._topic = stream.topic(EVENTS_TOPIC)
        self._topic.publish(event, force_flush=force_flush)

    async def close(self) -> None:
        """Send what is still buffered, within a bound; a failure is logged, not raised."""
        if self._stream is None or self._started is None:
            return
        try:
            await self._started
            await asyncio.wait_for(self._stream.__aexit__(None, None, None), FLUSH_TIMEOUT_S)
        except Exception as err:  # best-effort: the completed message is what counts
            log.warning("token deltas of run %s were not all delivered: %s", self._run_id, err)

    @staticmethod
    @contextlib.asynccontextmanager
    async def for_step(input: LlmStepInput) -> AsyncIterator[DeltaPublisher]:
        publisher = DeltaPublisher(input, activity.info().attempt)
        try:
            yield publisher
        finally:
            await publisher.close()
