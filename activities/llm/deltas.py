"""Token deltas, published from the model activity into the run's event stream.

Best-effort by design: batched (at most every 100 ms) into signals to the run's workflow
stream, and never allowed to fail or hold up the model call. The completed message, written to
the transcript and published by the workflow as `llm.completed`, is the durable record.
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

from workflows.types import EVENTS_TOPIC, LlmStepInput, RunEvent

BATCH_INTERVAL = timedelta(milliseconds=100)
FLUSH_TIMEOUT_S = 5.0

log = logging.getLogger(__name__)


class DeltaPublisher:
    def __init__(self, topic: TopicHandle[Any], input: LlmStepInput, attempt: int) -> None:
        self._topic = topic
        self._run_id = input.run_id
        self._step = input.step
        self._attempt = attempt

    def publish(self, text: str) -> None:
        """The provider's `on_delta`: buffer one fragment (never blocks, never raises)."""
        if not text:
            return
        self._topic.publish(
            RunEvent(
                type="llm.delta",
                run_id=self._run_id,
                step=self._step,
                time=datetime.now(UTC).isoformat(),
                # A retried attempt streams its text again: `attempt` tells the two apart.
                data={"text": text, "attempt": self._attempt},
            )
        )

    @staticmethod
    @contextlib.asynccontextmanager
    async def for_step(input: LlmStepInput) -> AsyncIterator[DeltaPublisher | None]:
        """A publisher for this activity's run, or None where there is no workflow to publish
        to (an activity run outside a worker, as in unit tests)."""
        try:
            stream = WorkflowStreamClient.from_within_activity(batch_interval=BATCH_INTERVAL)
        except RuntimeError:
            yield None
            return
        await stream.__aenter__()
        try:
            yield DeltaPublisher(stream.topic(EVENTS_TOPIC), input, activity.info().attempt)
        finally:
            try:
                await asyncio.wait_for(stream.__aexit__(None, None, None), FLUSH_TIMEOUT_S)
            except Exception as err:  # best-effort: the completed message is what counts
                log.warning("token deltas of run %s were not all delivered: %s", input.run_id, err)
