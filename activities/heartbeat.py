"""Heartbeats for activities that wait on something slow (a model, a tool).

A heartbeat tells Temporal the worker is alive (a dead worker's attempt is retried elsewhere
within the heartbeat timeout, not the whole start-to-close timeout) and is how a cancel request
reaches the activity: the next heartbeat's answer cancels the task that awaits it.

A local activity (a quick, pure tool call: workflows/tool_steps.py) has no heartbeat: the
server never sees it, and a cancel reaches it from the worker that runs it. There `heartbeating`
only awaits the work.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from temporalio import activity

T = TypeVar("T")

EVERY_S = 2.0


async def heartbeating(work: Awaitable[T], every_s: float = EVERY_S) -> T:
    """Await `work`, heartbeating every `every_s` seconds until it is done (a local activity:
    just await it)."""
    if activity.info().is_local:
        return await work
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every_s)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
