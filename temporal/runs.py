"""Start runs and read their state back from Temporal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.converter import value_to_type
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from orch.errors import NotFound, OrchError
from temporal.client import AGENT_NAME, TemporalUnavailable
from workflows.agent_run import AgentRun
from workflows.types import AgentSpec, RunInput, RunResult, RunState


@dataclass(frozen=True)
class RunView:
    """What `GET /v1/runs/{id}` answers."""

    run_id: str
    status: str  # running | completed | stopped | failed | cancelled | terminated | timed_out
    agent: str
    agent_version: int
    stop_reason: str | None = None
    answer: str | None = None
    steps: int = 0
    tool_calls: int = 0
    usage: dict[str, float] = field(default_factory=dict)
    output: Any = None
    error: str | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None


@contextmanager
def temporal_errors(run_id: str | None = None) -> Iterator[None]:
    """Translate what the Temporal client raises into our errors, where it enters."""
    try:
        yield
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and run_id is not None:
            raise NotFound(f"no run {run_id!r}") from None
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise TemporalUnavailable(f"Temporal is unavailable: {err.message}") from err
        if err.status == RPCStatusCode.INVALID_ARGUMENT:
            # e.g. the AgentName search attribute is not registered on this namespace
            raise OrchError(
                f"Temporal refused the request: {err.message}",
                code="temporal_refused",
                status_code=502,
            ) from err
        raise
    except RuntimeError as err:  # the lazy client could not connect at all
        raise TemporalUnavailable(f"cannot reach Temporal: {err}") from err


async def start_run(
    client: Client, *, task_queue: str, run_id: str, agent: AgentSpec, input: str
) -> None:
    with temporal_errors():
        await _start(client, task_queue=task_queue, run_id=run_id, agent=agent, input=input)


async def _start(
    client: Client, *, task_queue: str, run_id: str, agent: AgentSpec, input: str
) -> None:
    await client.start_workflow(
        AgentRun.run,
        RunInput(run_id=run_id, agent=agent, input=input),
        id=run_id,
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        search_attributes=TypedSearchAttributes([SearchAttributePair(AGENT_NAME, agent.name)]),
        static_summary=f"agent {agent.name} v{agent.version}",
    )


_CLOSED_STATUS = {
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.FAILED: "failed",
}


async def ensure_exists(client: Client, run_id: str) -> None:
    with temporal_errors(run_id):
        await client.get_workflow_handle(run_id).describe()


async def get_run(client: Client, run_id: str) -> RunView:
    with temporal_errors(run_id):
        return await _read(client, run_id)


async def _read(client: Client, run_id: str) -> RunView:
    handle = client.get_workflow_handle_for(AgentRun.run, run_id)
    desc = await handle.describe()
    times = {"started_at": desc.start_time, "closed_at": desc.close_time}
    if desc.status == WorkflowExecutionStatus.COMPLETED:
        return _from_result(await handle.result(), **times)
    if desc.status == WorkflowExecutionStatus.FAILED:
        try:
            await handle.result()
        except WorkflowFailureError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.details:
                result = value_to_type(RunResult, cause.details[0])
                return _from_result(result, **times)
            return _from_state(await handle.query(AgentRun.state), "failed", str(cause), **times)
    state = await handle.query(AgentRun.state)
    status = _CLOSED_STATUS.get(desc.status, state.status) if desc.status else state.status
    return _from_state(state, status, state.error, **times)


def _from_result(
    result: RunResult, *, started_at: datetime | None, closed_at: datetime | None
) -> RunView:
    return RunView(
        run_id=result.run_id,
        status=result.status,
        agent=result.agent,
        agent_version=result.agent_version,
        stop_reason=result.stop_reason,
        answer=result.answer,
        steps=result.steps,
        tool_calls=result.tool_calls,
        usage=result.usage.as_dict(),
        error=result.error,
        output=result.output,
        started_at=started_at,
        closed_at=closed_at,
    )


def _from_state(
    state: RunState,
    status: str,
    error: str | None,
    *,
    started_at: datetime | None,
    closed_at: datetime | None,
) -> RunView:
    return RunView(
        run_id=state.run_id,
        status=status,
        agent=state.agent,
        agent_version=state.agent_version,
        stop_reason=state.stop_reason,
        answer=state.last_text or None,
        steps=state.steps,
        tool_calls=state.tool_calls,
        usage=state.usage.as_dict(),
        error=error,
        started_at=started_at,
        closed_at=closed_at,
    )
