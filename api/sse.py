"""Run events for SSE clients: one Temporal stream subscription per run, fanned out in-process.

Every poll of a workflow stream writes history and its own copy of the items, so however many
browsers and terminals watch a run, the API polls it once. A feed keeps the events it has seen
(offset-addressed), so a client that reconnects with Last-Event-ID resumes where it left off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus

from temporal.history import PublishedEvent
from temporal.stream import run_events
from workflows.events import TERMINAL_EVENTS

# Pause between two polls while a run is publishing. A caught-up poll waits in the workflow for
# the next event (no busy loop on an idle run); the SDK's default 100 ms pause adds up to that
# much to every event's delivery. Measured with bench/stream_latency.py.
POLL_COOLDOWN = timedelta(milliseconds=20)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamedEvent:
    offset: int
    type: str
    data: dict[str, Any]


# The message an events stream sends when no worker polls the run's task queue (no `id:`).
STREAM_UNAVAILABLE = "stream.unavailable"


def from_history(
    run_id: str, events: list[PublishedEvent], after: int | None
) -> list[StreamedEvent]:
    """The events of `events` (from Temporal's history, oldest first) that a reader resuming
    after `after` gets: those that follow it without a gap, up to and including a terminal
    one. A gap (events the history does not hold) ends them: the rest come live, so that the
    reader still misses nothing and sees the offsets in order."""
    found: list[StreamedEvent] = []
    expected = 0 if after is None else after + 1
    for event in events:
        if event.offset < expected:
            continue
        if event.offset > expected:
            break
        data = {
            "type": event.type,
            "run_id": run_id,
            "step": event.step,
            "time": event.time,
            "data": event.data,
        }
        found.append(StreamedEvent(event.offset, event.type, data))
        if event.type in TERMINAL_EVENTS:
            break
        expected += 1
    return found


class RunFeed:
    """The events of one run, read once from its workflow stream and kept for late readers."""

    def __init__(self, client: Client, run_id: str) -> None:
        self.run_id = run_id
        self._client = client
        self._events: list[StreamedEvent] = []
        self._done = False
        self._error: str | None = None
        self._changed = asyncio.Condition()
        self.readers = 0
        self._task = asyncio.create_task(self._pump(), name=f"run-feed-{run_id}")

    @property
    def done(self) -> bool:
        return self._done

    async def _pump(self) -> None:
        try:
            ended = False
            items = run_events(self._client, self.run_id, poll_cooldown=POLL_COOLDOWN)
            async for item in items:
                kind = str(item.event.get("type", ""))
                event = StreamedEvent(item.offset, kind, item.event)
                await self._add(event)
                if event.type in TERMINAL_EVENTS:
                    ended = True
                    break
            if not ended:
                await self._add(await self._ended_outside())
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.warning("event stream of run %s broke off: %s", self.run_id, err)
            self._error = f"event stream broke off: {err}"
        finally:
            async with self._changed:
                self._done = True
                self._changed.notify_all()

    async def _add(self, event: StreamedEvent) -> None:
        async with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    async def _ended_outside(self) -> StreamedEvent:
        """The terminal event of a run that closed without publishing one: cancelled, terminated
        or timed out from outside. Not part of the run's stream, so it has no offset."""
        desc = await self._client.get_workflow_handle(self.run_id).describe()
        status = desc.status.name.lower() if desc.status else "unknown"
        kind = "run.cancelled" if desc.status == WorkflowExecutionStatus.CANCELED else "run.failed"
        data = {"error": f"the run was {status} outside the agent loop", "error_type": status}
        event = {"type": kind, "run_id": self.run_id, "step": None, "data": data}
        if desc.close_time is not None:
            event["time"] = desc.close_time.isoformat()
        return StreamedEvent(-1, kind, event)

    def _has_news(self, seen: int) -> bool:
        return len(self._events) > seen or self._done

    async def follow(self, after: int | None) -> AsyncIterator[StreamedEvent]:
        """Events with offset > `after` (all when None), live, until the run's terminal event."""
        index = 0
        while True:
            async with self._changed:
                await self._changed.wait_for(partial(self._has_news, index))
                batch = self._events[index:]
                index = len(self._events)
                finished = self._done
            for event in batch:
                if after is None or event.offset > after or event.offset < 0:
                    yield event
            if finished and index == len(self._events):
                if self._error is not None:
                    yield StreamedEvent(-1, "stream.error", {"error": self._error})
                return

    async def close(self) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


class EventHub:
    """Holds one RunFeed per watched run; a finished feed goes once its last reader leaves."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._feeds: dict[str, RunFeed] = {}

    @property
    def watched(self) -> frozenset[str]:
        """The runs being followed for at least one client right now."""
        return frozenset(self._feeds)

    @property
    def readers(self) -> int:
        """The clients following a run through this hub right now (GET /metrics)."""
        return sum(feed.readers for feed in self._feeds.values())

    async def follow(self, run_id: str, after: int | None) -> AsyncIterator[StreamedEvent]:
        feed = self._feeds.get(run_id)
        if feed is None:
            feed = self._feeds[run_id] = RunFeed(self._client, run_id)
        feed.readers += 1
        try:
            async for event in feed.follow(after):
                yield event
        finally:
            feed.readers -= 1
            if feed.readers == 0 and self._feeds.get(run_id) is feed:
                # Nobody is watching: stop polling. A later reader starts a fresh feed, which
                # replays the retained events from the workflow (by query once it has closed).
                del self._feeds[run_id]
                await feed.close()

    async def close(self) -> None:
        feeds = list(self._feeds.values())
        self._feeds.clear()
        for feed in feeds:
            await feed.close()
