"""Token deltas, published from the model activity into the run's event stream.

Best-effort by design: batched (at most every 100 ms) into signals to the run's workflow
stream, and never allowed to fail or hold up the model call. The completed message, written to
the transcript and published by the workflow as `llm.completed`, is the durable record. The
stream client is made on the first delta, so a model call that streams no text costs nothing.

Only while someone follows the stream: a call the workflow scheduled with `stream_tokens`
False (nobody polled the stream: workflows/stream_watch.py) holds its deltas back and asks the
workflow's `watched` query (no history, no workflow task of the run's) on its first delta, at
most every ASK_EVERY_S after, and once more at its end. When a subscriber has come meanwhile,
it publishes what it held and goes on like a watched call; otherwise it sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.contrib.workflow_streams import TopicHandle, WorkflowStreamClient

from workflows.stream_watch import WATCHED_QUERY
from workflows.types import EVENTS_TOPIC, LlmStepInput, RunEvent

BATCH_INTERVAL = timedelta(milliseconds=100)
FLUSH_TIMEOUT_S = 5.0
ASK_EVERY_S = 0.25
ASK_TIMEOUT = timedelta(seconds=1)

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
        self._wanted = input.stream_tokens
        self._held: list[RunEvent] = []  # while nobody watches
        self._asking: asyncio.Task[bool] | None = None
        self._asked_at: float | None = None

    def publish(self, text: str) -> None:
        """The provider's `on_delta`: buffer one fragment (never blocks, never raises)."""
        if not text or self._unavailable:
            return
        event = RunEvent(
            type="llm.delta",
            run_id=self._run_id,
            step=self._step,
            time=datetime.now(UTC).isoformat(),
            # A retried attempt streams its text again: `attempt` tells the two apart.
            data={"text": text, "attempt": self._attempt},
        )
        if self._wanted:
            self._send(event)
            return
        self._held.append(event)
        if self._asked_at is None or time.monotonic() - self._asked_at >= ASK_EVERY_S:
            self._ask()

    def _ask(self) -> None:
        """Ask the workflow whether a subscriber came (one question at a time)."""
        if self._asking is not None:
            return
        self._asked_at = time.monotonic()
        self._asking = asyncio.ensure_future(_watched(self._run_id))
        self._asking.add_done_callback(self._answered)

    def _answered(self, asking: asyncio.Task[bool]) -> None:
        self._asking = None
        if asking.cancelled() or not asking.result() or self._wanted:
            return
        self._wanted = True
        held, self._held = self._held, []
        for event in held:
            self._send(event)

    def _send(self, event: RunEvent) -> None:
        if self._unavailable:
            return
        if self._topic is None:
            try:
                stream = WorkflowStreamClient.from_within_activity(batch_interval=BATCH_INTERVAL)
            except RuntimeError:  # not run by a worker for a workflow (unit tests): no stream
                self._unavailable = True
                return
            self._stream = stream
            self._started = asyncio.ensure_future(stream.__aenter__())  # starts its flusher
            self._topic = stream.topic(EVENTS_TOPIC)
        self._topic.publish(event)

    async def close(self) -> None:
        """Send what is still buffered, within a bound; a failure is logged, not raised."""
        if self._held:  # nobody watched yet: a last question, then what it held goes or not
            self._ask()
            if self._asking is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._asking)
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


async def _watched(run_id: str) -> bool:
    """The run's `watched` query (its workflow id is the run id), from within its model
    activity; False when it cannot say."""
    try:
        handle = activity.client().get_workflow_handle(run_id)
        return bool(await handle.query(WATCHED_QUERY, result_type=bool, rpc_timeout=ASK_TIMEOUT))
    except Exception:  # best-effort: no answer means nobody is known to watch
        return False
