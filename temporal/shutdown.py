"""Stopping a worker cleanly: drain the activities in flight, or cut them off when asked twice.

A worker built with `graceful_shutdown_timeout` stops polling as soon as `shutdown()` is called
and lets the activities it is running finish for that long; only then does the SDK cancel them
(and Temporal runs a cancelled call again). `InFlight` counts those activities, so the stop can
say how many it waits for, and cancels them at once when the operator does not want to wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)


class InFlight(Interceptor):
    """A worker interceptor that knows the tasks of the activities running right now."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Tracked(next, self._tasks)

    @property
    def count(self) -> int:
        return len(self._tasks)

    def cancel_all(self) -> int:
        """Cancel every activity in flight (each fails with a cancel, and Temporal retries it
        under its retry policy); return how many."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel("the worker was told to stop at once")
        return len(tasks)


class _Tracked(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, tasks: set[asyncio.Task[Any]]) -> None:
        super().__init__(next)
        self._tasks = tasks

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        # The SDK runs each async activity in a task of its own, this one: cancelling it cuts the
        # activity's code off. Only while that code runs; reporting its outcome is never cut.
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            return await self.next.execute_activity(input)
        finally:
            if task is not None:
                self._tasks.discard(task)


async def drain(
    worker: Worker,
    in_flight: InFlight,
    *,
    grace_s: float,
    at_once: asyncio.Event,
    say: Callable[[str], None],
) -> None:
    """Shut `worker` down: no new work, the activities in flight get `grace_s` to finish.

    When `at_once` is set meanwhile (a second signal), the activities still running are
    cancelled there and then. Returns when the worker has stopped.
    """
    say(
        f"draining the worker: {_activities(in_flight.count)} in flight, waiting up to "
        f"{grace_s:g} s (signal again to stop at once)"
    )
    shutdown = asyncio.create_task(worker.shutdown())
    hurry = asyncio.create_task(at_once.wait())
    try:
        done, _ = await asyncio.wait(
            {shutdown, hurry}, timeout=grace_s, return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            say(f"grace of {grace_s:g} s over: cancelling {_activities(in_flight.count)} in flight")
            done, _ = await asyncio.wait({shutdown, hurry}, return_when=asyncio.FIRST_COMPLETED)
        if shutdown not in done:
            cut = in_flight.cancel_all()
            say(f"stopping at once: cancelled {_activities(cut)} in flight (Temporal retries them)")
        await shutdown
    finally:
        hurry.cancel()


def _activities(count: int) -> str:
    return "1 activity" if count == 1 else f"{count} activities"
