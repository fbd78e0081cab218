"""Steering a run from outside: cancel it, decide an approval, answer a question.

Cancel is Temporal's own (the server records the request; no worker is needed to take it).
Approvals and answers are Updates, which only a worker can take: a worker is looked for on the
run's task queue first, and the Update is bounded, so neither hangs while no worker polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import Conflict, NoWorker
from temporal.runs import CALL_TIMEOUT, describe, ended, temporal_errors
from temporal.workers import WorkerCheck
from workflows.agent_run import AgentRun
from workflows.types import (
    ApprovalDecision,
    ApprovalOutcome,
    InputOutcome,
    UserInput,
)

# An Update with a worker polling: it waits for the worker's next workflow task (milliseconds
# on a healthy worker). It is bounded as a whole: the client sends the Update again, each time
# with a fresh `rpc_timeout`, whenever Temporal answers that it is only admitted. With the
# describe and the poller check before it, under 5 s in all.
UPDATE_TIMEOUT = timedelta(seconds=2.5)


async def cancel_run(client: Client, run_id: str) -> str | None:
    """Ask a run to cancel. Returns None when the request was sent, or the status of a run that
    had already ended (asking again is harmless: Temporal keeps one cancel request)."""
    status = ended(await describe(client, run_id))
    if status is not None:
        return status
    with temporal_errors(run_id):
        await client.get_workflow_handle(run_id).cancel(rpc_timeout=CALL_TIMEOUT)
    return None


@contextmanager
def _update_errors(run_id: str, task_queue: str, workers: WorkerCheck) -> Iterator[None]:
    """A refused update (nothing of that id pending) or a closed run is a 409; an Update no
    worker took in time is a 503 no_worker."""
    with temporal_errors(run_id):
        try:
            yield
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise Conflict(reason) from None
        except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
            workers.forget(task_queue)
            seconds = UPDATE_TIMEOUT.total_seconds()
            raise NoWorker(
                f"no worker polling the task queue {task_queue!r} took the update within "
                f"{seconds:g} s; it may still reach the run when a worker takes it"
            ) from None
        except RPCError as err:
            if err.status in (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.NOT_FOUND):
                # NOT_FOUND here is "workflow execution already completed" for a known id;
                # an unknown id was ruled out by describe() first.
                raise Conflict(f"run {run_id!r} is not running: {err.message}") from None
            raise


async def _worker_for(client: Client, run_id: str, workers: WorkerCheck) -> str:
    """The task queue of a running run that a worker polls; 409 for a run that ended, 503
    no_worker when no worker polls its task queue."""
    desc = await describe(client, run_id)
    status = ended(desc)
    if status is not None:
        raise Conflict(f"run {run_id!r} is not running (it is {status})")
    with temporal_errors(run_id):
        found = await workers.has_workflow_worker(desc.task_queue)
    if not found:
        raise NoWorker(
            f"no worker polls the task queue {desc.task_queue!r}: the run cannot take this "
            "now; start a worker on that task queue and try again"
        )
    return desc.task_queue


async def resolve_approval(
    client: Client, run_id: str, decision: ApprovalDecision, workers: WorkerCheck | None = None
) -> ApprovalOutcome:
    check = workers or WorkerCheck(client)
    task_queue = await _worker_for(client, run_id, check)
    with _update_errors(run_id, task_queue, check):
        handle = client.get_workflow_handle_for(AgentRun.run, run_id)
        async with asyncio.timeout(UPDATE_TIMEOUT.total_seconds()):
            return await handle.execute_update(
                AgentRun.resolve_approval, decision, rpc_timeout=UPDATE_TIMEOUT
            )


async def provide_input(
    client: Client, run_id: str, reply: UserInput, workers: WorkerCheck | None = None
) -> InputOutcome:
    check = workers or WorkerCheck(client)
    task_queue = await _worker_for(client, run_id, check)
    with _update_errors(run_id, task_queue, check):
        handle = client.get_workflow_handle_for(AgentRun.run, run_id)
        async with asyncio.timeout(UPDATE_TIMEOUT.total_seconds()):
            return await handle.execute_update(
                AgentRun.provide_input, reply, rpc_timeout=UPDATE_TIMEOUT
            )
