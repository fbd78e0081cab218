"""Listing runs from Temporal visibility: the query, paging, and one summary per run."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from config_store.validation import NAME_RE
from core.errors import InvalidConfig, OrchError
from temporal.client import TemporalUnavailable
from temporal.runs import ENDED_STATUS, temporal_errors
from workflows.agent_run import AgentRun
from workflows.kinds import LISTED_STATUSES, ListedStatus, member
from workflows.types import AGENT_NAME

MAX_PAGE_SIZE = 200
# One page of the list, connecting included: visibility answers in milliseconds when it is well;
# past this the list answers 503 rather than hang. The RPC deadline alone does not bound a lazy
# client that is still connecting (a Temporal that accepts connections and never answers).
LIST_TIMEOUT = timedelta(seconds=5)

# Our status names, as the list filter takes them, and Temporal's ExecutionStatus for each.
LIST_STATUSES: dict[ListedStatus, str] = {
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
        listed = member(LISTED_STATUSES, status)
        if listed is None:
            raise InvalidConfig("status", f"one of: {', '.join(LISTED_STATUSES)}")
        terms.append(f"ExecutionStatus = '{LIST_STATUSES[listed]}'")
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
    Temporal's: running runs first, then by close time, newest first. TemporalUnavailable
    when Temporal does not answer within LIST_TIMEOUT."""
    query = runs_query(agent=agent, status=status, page_size=page_size)
    pages = client.list_workflows(
        query, page_size=page_size, next_page_token=page_token, rpc_timeout=LIST_TIMEOUT
    )
    try:
        with temporal_errors():
            async with asyncio.timeout(LIST_TIMEOUT.total_seconds()):
                await pages.fetch_next_page()
    except TimeoutError:
        seconds = LIST_TIMEOUT.total_seconds()
        raise TemporalUnavailable(
            f"Temporal did not answer the run list within {seconds:g} s"
        ) from None
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
