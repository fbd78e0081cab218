"""The poller check costs at most one describe_task_queue call, and none while a yes is fresh."""

from __future__ import annotations

from typing import Any, cast

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo
from temporalio.api.workflowservice.v1 import (
    DescribeTaskQueueRequest,
    DescribeTaskQueueResponse,
)
from temporalio.client import Client

from temporal.workers import CHECK_TIMEOUT, POSITIVE_TTL_S, WorkerCheck


class FakeService:
    """Temporal's describe_task_queue with a set of polled (queue, type) pairs."""

    def __init__(self) -> None:
        self.polled: set[tuple[str, int]] = set()
        self.calls: list[DescribeTaskQueueRequest] = []

    async def describe_task_queue(
        self, request: DescribeTaskQueueRequest, *, timeout: Any = None
    ) -> DescribeTaskQueueResponse:
        assert timeout == CHECK_TIMEOUT  # every call is bounded
        self.calls.append(request)
        key = (request.task_queue.name, request.task_queue_type)
        pollers = [PollerInfo(identity="w")] if key in self.polled else []
        return DescribeTaskQueueResponse(pollers=pollers)


class FakeClient:
    namespace = "default"

    def __init__(self) -> None:
        self.workflow_service = FakeService()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


WORKFLOW = TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW


async def test_a_yes_is_kept_for_the_ttl_and_a_no_is_asked_again() -> None:
    client, clock = FakeClient(), Clock()
    service = client.workflow_service
    check = WorkerCheck(cast(Client, client), clock=clock)

    assert not await check.has_workflow_worker("q")
    assert not await check.has_workflow_worker("q")
    assert len(service.calls) == 2  # a no is never kept: a worker that comes is seen at once

    service.polled.add(("q", WORKFLOW))
    assert await check.has_workflow_worker("q")
    assert len(service.calls) == 3
    clock.now += POSITIVE_TTL_S / 2
    assert await check.has_workflow_worker("q")
    assert len(service.calls) == 3  # from memory: no call at all
    clock.now += POSITIVE_TTL_S
    assert await check.has_workflow_worker("q")
    assert len(service.calls) == 4

    check.forget("q")  # a query or an Update found nobody behind the pollers
    assert await check.has_workflow_worker("q")
    assert len(service.calls) == 5
    request = service.calls[-1]
    assert (request.namespace, request.task_queue.name) == ("default", "q")
    assert request.task_queue_type == WORKFLOW


async def test_the_notice_says_which_task_types_nobody_polls() -> None:
    client = FakeClient()
    check = WorkerCheck(cast(Client, client))
    nobody = await check.without_workflow_worker("q")
    assert nobody.notice() == "no worker polls the task queue 'q'"
    client.workflow_service.polled.add(("q", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY))
    activities_only = await check.without_workflow_worker("q")
    assert activities_only.notice() == "no worker polls the task queue 'q' for workflow tasks"
