"""Whether a worker polls a task queue, asked of Temporal before anything that needs one.

A query or an Update reaches a run only through a worker: with none polling, Temporal holds the
call until a worker comes (or the call's deadline passes). `describe_task_queue` answers at once
from the matching service, so it is asked first, and a positive answer is kept for a moment so
that a busy API does not ask on every request.

Temporal keeps listing a poller for a while after its worker has gone (the dev server: minutes),
so a positive answer is a hint, not a promise: the calls it lets through are still bounded by
their own deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

# One describe_task_queue call: the matching service answers from memory, in milliseconds.
CHECK_TIMEOUT = timedelta(seconds=1)
# How long a "workers poll it" answer is reused before Temporal is asked again.
POSITIVE_TTL_S = 2.0


@dataclass(frozen=True)
class Pollers:
    """Who polls a task queue that no worker polls for workflow tasks."""

    task_queue: str
    activity: bool  # a worker polls it for activity tasks only

    def notice(self) -> str:
        """One line on what is missing, for a person."""
        if self.activity:
            return f"no worker polls the task queue {self.task_queue!r} for workflow tasks"
        return f"no worker polls the task queue {self.task_queue!r}"


class WorkerCheck:
    """Answers "does a worker poll this task queue for workflow tasks?", keeping a yes for
    `ttl_s` seconds. One per API process (the lifespan makes it). Its calls raise Temporal's
    RPCError as they get it: callers translate it (`temporal_errors`)."""

    def __init__(
        self,
        client: Client,
        *,
        ttl_s: float = POSITIVE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._clock = clock
        self._seen: dict[str, float] = {}  # task queue -> when workflow pollers were last seen

    async def has_workflow_worker(self, task_queue: str) -> bool:
        """True when a worker polls `task_queue` for workflow tasks: from memory within the
        TTL of the last yes, else from one describe_task_queue call."""
        seen = self._seen.get(task_queue)
        if seen is not None and self._clock() - seen < self._ttl_s:
            return True
        found = await self._polled(task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
        if found:
            self._seen[task_queue] = self._clock()
        else:
            self._seen.pop(task_queue, None)
        return found

    def forget(self, task_queue: str) -> None:
        """A call the worker should have answered timed out: ask Temporal again next time."""
        self._seen.pop(task_queue, None)

    async def without_workflow_worker(self, task_queue: str) -> Pollers:
        """After a no from `has_workflow_worker`: who else polls it (for the notice)."""
        activity = await self._polled(task_queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)
        return Pollers(task_queue, activity=activity)

    async def _polled(self, task_queue: str, kind: TaskQueueType.ValueType) -> bool:
        request = DescribeTaskQueueRequest(
            namespace=self._client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=kind,
        )
        response = await self._client.workflow_service.describe_task_queue(
            request, timeout=CHECK_TIMEOUT
        )
        return len(response.pollers) > 0
