"""Steering a run from outside: cancel it, decide an approval, answer a question."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from core.errors import Conflict
from temporal.runs import ended_status, temporal_errors
from workflows.agent_run import AgentRun
from workflows.types import (
    ApprovalDecision,
    ApprovalOutcome,
    InputOutcome,
    UserInput,
)


async def cancel_run(client: Client, run_id: str) -> str | None:
    """Ask a run to cancel. Returns None when the request was sent, or the status of a run that
    had already ended (asking again is harmless: Temporal keeps one cancel request)."""
    ended = await ended_status(client, run_id)
    if ended is not None:
        return ended
    with temporal_errors(run_id):
        await client.get_workflow_handle(run_id).cancel()
    return None


@contextmanager
def _update_errors(run_id: str) -> Iterator[None]:
    """A refused update (nothing of that id pending) or a closed run is a 409."""
    with temporal_errors(run_id):
        try:
            yield
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
            raise Conflict(reason) from None
        except RPCError as err:
            if err.status in (RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.NOT_FOUND):
                # NOT_FOUND here is "workflow execution already completed" for a known id;
                # an unknown id was ruled out by describe() first.
                raise Conflict(f"run {run_id!r} is not running: {err.message}") from None
            raise


async def _ensure_running(client: Client, run_id: str) -> None:
    ended = await ended_status(client, run_id)
    if ended is not None:
        raise Conflict(f"run {run_id!r} is not running (it is {ended})")


async def resolve_approval(
    client: Client, run_id: str, decision: ApprovalDecision
) -> ApprovalOutcome:
    await _ensure_running(client, run_id)
    with _update_errors(run_id):
        handle = client.get_workflow_handle_for(AgentRun.run, run_id)
        return await handle.execute_update(AgentRun.resolve_approval, decision)


async def provide_input(client: Client, run_id: str, reply: UserInput) -> InputOutcome:
    await _ensure_running(client, run_id)
    with _update_errors(run_id):
        handle = client.get_workflow_handle_for(AgentRun.run, run_id)
        return await handle.execute_update(AgentRun.provide_input, reply)
