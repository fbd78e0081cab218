"""Start runs and read their state back from Temporal."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecution,
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

from config_store.validation import NAME_RE
from core.errors import InvalidConfig, NotFound, OrchError
from temporal.client import TemporalUnavailable
from workflows.agent_run import AgentRun
from workflows.types import AGENT_NAME, AgentSpec, RunInput, RunResult, RunState


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
    usage: dict[str, int | float] = field(default_factory=dict)
    output: Any = None
    error: str | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    tool_errors: int = 0  # tool calls that ended in an error result
    invalid_tool_calls: int = 0  # of those, calls with arguments that broke the schema
    parent_run_id: str | None = None  # a sub-agent run: the run that started it


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
    client: Client,
    *,
    task_queue: str,
    run_id: str,
    agent: AgentSpec,
    input: str,
    history: int = 0,
) -> None:
    """Start the AgentRun workflow (id = run_id). `history`: messages of earlier turns already
    copied into the run's transcript (a thread's)."""
    with temporal_errors():
        await _start(client, task_queue, RunInput(run_id, agent, input, history=history))


async def ended_status(client: Client, run_id: str) -> str | None:
    """How a run ended ("completed", "cancelled", ...), or None while it is still going."""
    with temporal_errors(run_id):
        desc = await client.get_workflow_handle(run_id).describe()
    return ENDED_STATUS.get(desc.status) if desc.status else None


async def _start(client: Client, task_queue: str, input: RunInput) -> None:
    agent, run_id = input.agent, input.run_id
    await client.start_workflow(
        AgentRun.run,
        input,
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
# Every way an execution can have ended, as the API names it.
ENDED_STATUS = {WorkflowExecutionStatus.COMPLETED: "completed", **_CLOSED_STATUS}


async def ensure_exists(client: Client, run_id: str) -> None:
    with temporal_errors(run_id):
        await client.get_workflow_handle(run_id).describe()


async def get_run(client: Client, run_id: str) -> RunView:
    with temporal_errors(run_id):
        return await _read(client, run_id)


async def _read(client: Client, run_id: str) -> RunView:
    handle = client.get_workflow_handle_for(AgentRun.run, run_id)
    desc = await handle.describe()
    times = _Times(desc.start_time, desc.close_time, desc.parent_id)
    if desc.status == WorkflowExecutionStatus.COMPLETED:
        return _from_result(await handle.result(), times)
    if desc.status == WorkflowExecutionStatus.FAILED:
        try:
            await handle.result()
        except WorkflowFailureError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.details:
                result = value_to_type(RunResult, cause.details[0])
                return _from_result(result, times)
            return _from_state(await handle.query(AgentRun.state), "failed", str(cause), times)
    state = await handle.query(AgentRun.state)
    status = _CLOSED_STATUS.get(desc.status, state.status) if desc.status else state.status
    return _from_state(state, status, state.error, times)


@dataclass(frozen=True)
class _Times:
    """What Temporal's description adds to a run's own view of itself."""

    started_at: datetime | None
    closed_at: datetime | None
    parent_run_id: str | None


def _from_result(result: RunResult, times: _Times) -> RunView:
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
        started_at=times.started_at,
        closed_at=times.closed_at,
        tool_errors=result.tool_errors,
        invalid_tool_calls=result.invalid_tool_calls,
        parent_run_id=times.parent_run_id,
    )


def _from_state(
    state: RunState,
    status: str,
    error: str | None,
    times: _Times,
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
        started_at=times.started_at,
        closed_at=times.closed_at,
        tool_errors=state.tool_errors,
        invalid_tool_calls=state.invalid_tool_calls,
        parent_run_id=times.parent_run_id,
    )


# --- Listing runs from Temporal visibility --------------------------------------------------

MAX_PAGE_SIZE = 200

# Our status names, as the list filter takes them, and Temporal's ExecutionStatus for each.
LIST_STATUSES = {
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Canceled",
    "terminated": "Terminated",
    "timed_out": "TimedOut",
}

_LISTED_STATUS = {
    WorkflowExecutionStatus.RUNNING: "running",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "continued_as_new",
    **ENDED_STATUS,
}


@dataclass(frozen=True)
class RunSummary:
    """One run as Temporal visibility sees it. `status` is Temporal's execution status: a run
    the workflow ended as `stopped` (a policy stop) is `completed` here; `GET /v1/runs/{id}`
    has the run's own status."""

    run_id: str
    agent: str | None
    status: str  # running | completed | failed | cancelled | terminated | timed_out
    started_at: datetime | None
    closed_at: datetime | None
    parent_run_id: str | None = None  # a sub-agent's run: the run that started it


@dataclass(frozen=True)
class RunPage:
    """What `GET /v1/runs` answers. Pass `next_page_token` back as `page_token` for the next
    page; it is null on the last page."""

    runs: list[RunSummary]
    next_page_token: str | None = None


def runs_query(*, agent: str | None, status: str | None, page_size: int = 1) -> str:
    """The visibility query for AgentRun workflows, built from validated inputs only;
    InvalidConfig naming `agent`, `status` or `limit` (the page size) otherwise.

    A run that continued as new has one closed execution per earlier part and one current
    execution, all with the run's id: only the current one is listed."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidConfig("limit", f"between 1 and {MAX_PAGE_SIZE}")
    terms = [f"WorkflowType = '{AgentRun.__name__}'", "ExecutionStatus != 'ContinuedAsNew'"]
    if agent is not None:
        if not NAME_RE.fullmatch(agent):
            raise InvalidConfig("agent", f"not an agent name: {NAME_RE.pattern}")
        terms.append(f"{AGENT_NAME.name} = '{agent}'")
    if status is not None:
        if status not in LIST_STATUSES:
            raise InvalidConfig("status", f"one of: {', '.join(LIST_STATUSES)}")
        terms.append(f"ExecutionStatus = '{LIST_STATUSES[status]}'")
    return " AND ".join(terms)


# Our page token: Temporal's, behind a short checksum. Temporal does not check a token it is
# given (the dev server answers a garbled one with an error its client retries for seconds), so
# a token that did not come from us is refused here, before Temporal sees it.
_CHECK_SIZE = 8


def _check(token: bytes) -> bytes:
    return hashlib.blake2b(token, digest_size=_CHECK_SIZE, person=b"orch-runs").digest()


def encode_page_token(token: bytes) -> str:
    """URL-safe base64 (unpadded) of a checksum and Temporal's page token."""
    return base64.urlsafe_b64encode(_check(token) + token).decode("ascii").rstrip("=")


def decode_page_token(text: str) -> bytes:
    """Temporal's page token back from `encode_page_token`'s text; InvalidConfig naming
    `page_token` for anything else."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    check, token = raw[:_CHECK_SIZE], raw[_CHECK_SIZE:]
    if not token or check != _check(token):
        raise InvalidConfig("page_token", "not a next_page_token from a previous page")
    return token


async def list_runs(
    client: Client,
    *,
    agent: str | None,
    status: str | None,
    page_size: int,
    page_token: bytes | None,
) -> RunPage:
    """One page of AgentRun runs from Temporal visibility (eventually consistent: a run just
    started or just closed may show up, or change status, a moment later). The order is
    Temporal's: running runs first, then by close time, newest first."""
    query = runs_query(agent=agent, status=status, page_size=page_size)
    pages = client.list_workflows(query, page_size=page_size, next_page_token=page_token)
    try:
        with temporal_errors():
            await pages.fetch_next_page()
    except OrchError as err:
        if page_token is not None and err.code == "temporal_refused":
            raise InvalidConfig("page_token", "Temporal refused this page token") from None
        raise
    runs = [_summary(execution) for execution in pages.current_page or ()]
    token = pages.next_page_token
    return RunPage(runs=runs, next_page_token=encode_page_token(token) if token else None)


def _summary(execution: WorkflowExecution) -> RunSummary:
    status = execution.status
    return RunSummary(
        run_id=execution.id,
        agent=execution.typed_search_attributes.get(AGENT_NAME),
        status=_LISTED_STATUS.get(status, "unknown") if status is not None else "unknown",
        started_at=execution.start_time,
        closed_at=execution.close_time,
        parent_run_id=execution.parent_id,
    )
