"""Start runs and read their state back from Temporal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
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

from core.errors import NotFound, OrchError
from core.tracing import current_trace_id
from temporal.client import TemporalUnavailable
from temporal.history import PublishedEvent, last_events, start_input
from temporal.workers import WorkerCheck
from workflows.agent_run import AgentRun
from workflows.types import AGENT_NAME, AgentSpec, PendingAction, RunInput, RunResult, RunState


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
    # What a running run waits on a person for (an approval, a retry whose outcome is
    # unknown, an answer); empty when it waits for none or its state could not be read.
    pending: list[PendingAction] = field(default_factory=list)
    # False: the run's own state could not be read (no worker polls, or none answered).
    # `notice` says why; `last_events` holds the newest events Temporal's history has of the
    # run, `steps` is the last one's step, and the other counters, usage, stop_reason and
    # answer are unknown (left at their defaults).
    live: bool = True
    notice: str | None = None
    last_events: list[PublishedEvent] | None = None
    # The run in the Temporal Web UI (TEMPORAL_UI_URL); the API fills it in.
    temporal_ui_url: str | None = None


# Each call to Temporal that reads or cancels a run: Temporal answers from its own store.
CALL_TIMEOUT = timedelta(seconds=1)
# Reading a closed run's result (its close event, with the whole result in it).
RESULT_TIMEOUT = timedelta(seconds=5)
# A query needs the worker, which answers in milliseconds when it has the run cached (and must
# replay its history when it has not).
QUERY_TIMEOUT = timedelta(seconds=1.5)
# All the history reads of a run read without a worker, together.
HISTORY_TIMEOUT = timedelta(seconds=1)
# How many of the newest events a run read without a worker shows.
LAST_EVENTS = 20
# How many events from history an events stream sends when no worker polls the run's queue.
STREAM_HISTORY_EVENTS = 1000


_TOO_LARGE = ("message larger than max", "size limit", "exceeds limit", "blob data size")


def _too_large(err: RPCError) -> bool:
    """A refusal for size: the gRPC message limit (RESOURCE_EXHAUSTED) or the server's blob
    and history size limits ("Blob data size exceeds limit.", INVALID_ARGUMENT)."""
    message = err.message.lower()
    return err.status in (
        RPCStatusCode.INVALID_ARGUMENT,
        RPCStatusCode.RESOURCE_EXHAUSTED,
    ) and any(marker in message for marker in _TOO_LARGE)


# Temporal is down, or did not answer within the call's deadline (the client reports an
# expired `rpc_timeout` as CANCELLED).
_TIMED_OUT = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)
_NO_ANSWER = (RPCStatusCode.UNAVAILABLE, *_TIMED_OUT)


@contextmanager
def temporal_errors(run_id: str | None = None) -> Iterator[None]:
    """Translate what the Temporal client raises into our errors, where it enters."""
    try:
        yield
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND and run_id is not None:
            raise NotFound(f"no run {run_id!r}") from None
        if _too_large(err):
            raise OrchError(
                f"Temporal refused the request as too large: {err.message}",
                code="payload_too_large",
                status_code=413,
            ) from err
        if err.status in _NO_ANSWER:
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
    follow: bool = False,
) -> None:
    """Start the AgentRun workflow (id = run_id). `history`: messages of earlier turns already
    copied into the run's transcript (a thread's); `follow`: the caller follows its stream from
    the start (its first model call streams). While tracing is on, the run's input names the
    current trace (its run.started event shows it)."""
    run = RunInput(
        run_id, agent, input, history=history, follow=follow, trace_id=current_trace_id()
    )
    with temporal_errors():
        await _start(client, task_queue, run)


RUN_WORKFLOW = "AgentRun"  # the workflow type of a run (@workflow.defn's default name)


def only_runs(desc: WorkflowExecutionDescription, run_id: str) -> WorkflowExecutionDescription:
    """The description, if it is a run's: another workflow in the namespace is no run of ours
    (and would not answer a run's query)."""
    if desc.workflow_type != RUN_WORKFLOW:
        raise NotFound(f"no run {run_id!r}")
    return desc


async def describe(client: Client, run_id: str) -> WorkflowExecutionDescription:
    """Temporal's description of the run (no worker needed), within CALL_TIMEOUT."""
    with temporal_errors(run_id):
        desc = await client.get_workflow_handle(run_id).describe(rpc_timeout=CALL_TIMEOUT)
    return only_runs(desc, run_id)


def ended(desc: WorkflowExecutionDescription) -> str | None:
    """How a run ended ("completed", "cancelled", ...), or None while it is still going."""
    return ENDED_STATUS.get(desc.status) if desc.status else None


async def ended_status(client: Client, run_id: str) -> str | None:
    """How a run ended ("completed", "cancelled", ...), or None while it is still going."""
    return ended(await describe(client, run_id))


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
    await describe(client, run_id)


@dataclass(frozen=True)
class NoWorker:
    """Why a run's events cannot stream live now, and what Temporal's history holds of them."""

    task_queue: str
    notice: str
    events: list[PublishedEvent]


async def stream_check(client: Client, run_id: str, workers: WorkerCheck) -> NoWorker | None:
    """Before streaming a run's events (NotFound for no run): None when a worker polls its task
    queue; else why the live stream is unavailable, with the events its history holds. The
    stream's polls (and, once the run has closed, its query) reach the run only through a
    worker: with none, they wait for one."""
    with temporal_errors(run_id):
        desc = await describe(client, run_id)
        if await workers.has_workflow_worker(desc.task_queue):
            return None
        pollers = await workers.without_workflow_worker(desc.task_queue)
    notice = f"{pollers.notice()}: the live stream is unavailable"
    try:
        async with asyncio.timeout(HISTORY_TIMEOUT.total_seconds()):
            carried = await start_input(client, run_id)
            events = await last_events(client, run_id, limit=STREAM_HISTORY_EVENTS, carried=carried)
    except (RPCError, TimeoutError) as err:
        if isinstance(err, RPCError) and err.status not in _NO_ANSWER:
            with temporal_errors(run_id):
                raise
        why = err.message if isinstance(err, RPCError) else "no answer in time"
        events = []
        notice += f"; its history could not be read ({why})"
    notice += "; the stream goes on when a worker polls the task queue"
    return NoWorker(task_queue=desc.task_queue, notice=notice, events=events)


async def get_run(client: Client, run_id: str, workers: WorkerCheck | None = None) -> RunView:
    """The run's view. A run whose state only its worker can tell (a running one) is read with
    the `state` query when a worker polls its task queue, else (or when the query finds no
    worker in QUERY_TIMEOUT) from what Temporal holds: `live` false, with a notice."""
    with temporal_errors(run_id):
        return await _read(client, run_id, workers or WorkerCheck(client))


async def _read(client: Client, run_id: str, workers: WorkerCheck) -> RunView:
    handle = client.get_workflow_handle_for(AgentRun.run, run_id)
    desc = only_runs(await handle.describe(rpc_timeout=CALL_TIMEOUT), run_id)
    times = _Times(desc.start_time, desc.close_time, desc.parent_id)
    if desc.status == WorkflowExecutionStatus.COMPLETED:
        return _from_result(await handle.result(rpc_timeout=RESULT_TIMEOUT), times)
    if desc.status == WorkflowExecutionStatus.FAILED:
        try:
            await handle.result(rpc_timeout=RESULT_TIMEOUT)
        except WorkflowFailureError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.details:
                result = value_to_type(RunResult, cause.details[0])
                return _from_result(result, times)
            state = await _query_state(client, handle, desc, workers)
            if isinstance(state, str):
                return await _without_worker(client, desc, times, state, "failed", str(cause))
            return _from_state(state, "failed", str(cause), times)
    state = await _query_state(client, handle, desc, workers)
    closed = _CLOSED_STATUS.get(desc.status) if desc.status else None
    if isinstance(state, str):
        return await _without_worker(client, desc, times, state, closed or "running", None)
    return _from_state(state, closed or state.status, state.error, times)


async def _query_state(
    client: Client,
    handle: WorkflowHandle[Any, Any],
    desc: WorkflowExecutionDescription,
    workers: WorkerCheck,
) -> RunState | str:
    """The run's `state` query, or why it could not be asked or answered (a notice)."""
    task_queue = desc.task_queue
    if not await workers.has_workflow_worker(task_queue):
        pollers = await workers.without_workflow_worker(task_queue)
        return f"{pollers.notice()}: the live state is unavailable"
    try:
        async with asyncio.timeout(QUERY_TIMEOUT.total_seconds()):
            state: RunState = await handle.query(AgentRun.state, rpc_timeout=QUERY_TIMEOUT)
    except (RPCError, TimeoutError) as err:
        if isinstance(err, RPCError) and err.status not in _TIMED_OUT:
            raise
        workers.forget(task_queue)
        seconds = QUERY_TIMEOUT.total_seconds()
        return (
            f"no worker polling the task queue {task_queue!r} answered within {seconds:g} s: "
            "the live state is unavailable"
        )
    return state


async def _without_worker(
    client: Client,
    desc: WorkflowExecutionDescription,
    times: _Times,
    notice: str,
    status: str,
    error: str | None,
) -> RunView:
    """The view of a run read without its worker: Temporal's description, the run's input and
    the newest events its history holds."""
    run_id = desc.id
    try:
        async with asyncio.timeout(HISTORY_TIMEOUT.total_seconds()):
            carried = await start_input(client, run_id)
            events = await last_events(client, run_id, limit=LAST_EVENTS, carried=carried)
    except (RPCError, TimeoutError) as err:
        if isinstance(err, RPCError) and err.status not in _NO_ANSWER:
            raise
        carried, events = None, []
        why = err.message if isinstance(err, RPCError) else "no answer in time"
        notice += f"; its history could not be read ({why})"
    else:
        notice += "; shown: what Temporal holds of the run without a worker"
    agent = carried.agent.name if carried else desc.typed_search_attributes.get(AGENT_NAME)
    last_step = events[-1].step if events else None
    return RunView(
        run_id=run_id,
        status=status,
        agent=agent or "",
        agent_version=carried.agent.version if carried else 0,
        steps=last_step or 0,
        error=error,
        started_at=times.started_at,
        closed_at=times.closed_at,
        parent_run_id=times.parent_run_id,
        live=False,
        notice=notice,
        last_events=events,
    )


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
        pending=list(state.pending),
    )
