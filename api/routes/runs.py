"""Runs: start one (directly or through a route), read its state, follow its events as SSE."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.auth import READ, RUN, Principal, authenticate_stream
from api.deps import EventsDep, SessionFactoryDep, SettingsDep, TemporalDep, WorkersDep
from api.metrics import ApiMetrics
from api.openapi import (
    INVALID_CONFIG,
    NOT_FOUND,
    TEMPORAL,
    TEMPORAL_TOO_LARGE,
    Answer,
    ValidationErrorBody,
    errors,
)
from api.schemas import RunInputText, RunVariables
from api.sse import STREAM_UNAVAILABLE, from_history
from api.stream_tokens import StreamClaims, sign
from config_store.validation import NAME_PATTERN
from core.settings import Settings
from services.runs import launch_run
from temporal.client import workflow_ui_url
from temporal.runs import NoWorker, RunView, ensure_exists, get_run, stream_check
from temporal.visibility import MAX_PAGE_SIZE, RunPage, decode_page_token, list_runs
from workflows.events import TERMINAL_EVENTS
from workflows.kinds import ListedStatus

router = APIRouter(prefix="/v1", tags=["runs"])

# What starting a run may answer besides a missing agent or route, or a prompt that does not render.
START = (TEMPORAL_TOO_LARGE, *TEMPORAL)
THREAD_BUSY = Answer(409, "conflict", "the thread's last run is still going.")
BAD_PAGE_TOKEN = Answer(
    422, "invalid_config", "`page_token` is not one this endpoint gave.", ValidationErrorBody
)

_VARIABLES = "values of the variables the agent's system prompt declares (prompt_variables)"
_TOKENS = (
    "true when you follow the run's events with `?include=tokens` from its start: its first "
    "model call then streams its tokens (a later call streams while someone follows the run)"
)


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, description="name of the agent to run")
    input: RunInputText
    variables: RunVariables = Field(default_factory=dict, description=_VARIABLES)
    tokens: bool = Field(default=False, description=_TOKENS)


class RouteRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: RunInputText
    variables: RunVariables = Field(default_factory=dict, description=_VARIABLES)
    tokens: bool = Field(default=False, description=_TOKENS)


class RunStarted(BaseModel):
    run_id: str
    agent: str
    agent_version: int
    events_url: str
    temporal_ui_url: str


def public_base(request: Request, settings: Settings) -> str:
    """The API's base URL as clients reach it: PUBLIC_URL, else the request's own."""
    return (settings.public_url or str(request.base_url)).rstrip("/")


async def _start(
    request: Request,
    factory: sessionmaker[Session],
    settings: Settings,
    client: Client,
    *,
    agent: str | None = None,
    route: str | None = None,
    thread: str | None = None,
    text: str,
    variables: dict[str, Any],
    tokens: bool,
) -> RunStarted:
    run_id, spec = await launch_run(
        factory,
        client,
        task_queue=settings.temporal_task_queue,
        text=text,
        agent=agent,
        route=route,
        variables=variables,
        thread=thread,
        follow=tokens,
    )
    counted: ApiMetrics = request.app.state.metrics
    counted.runs_started.labels(spec.name).inc()
    base = public_base(request, settings)
    return RunStarted(
        run_id=run_id,
        agent=spec.name,
        agent_version=spec.version,
        events_url=f"{base}/v1/runs/{run_id}/events",
        temporal_ui_url=workflow_ui_url(settings, run_id),
    )


@router.post(
    "/threads/{thread_id}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["threads"],
    dependencies=[RUN],
    responses=errors(NOT_FOUND, THREAD_BUSY, INVALID_CONFIG, *START),
)
async def create_thread_run(
    thread_id: Annotated[str, Path(pattern=NAME_PATTERN, description="the thread's name")],
    body: RunRequest,
    request: Request,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> RunStarted:
    """Start a run that continues the thread: it sees the thread's earlier turns (409 while the
    thread's last run is still going). A new thread id starts a new thread."""
    return await _start(
        request,
        factory,
        settings,
        client,
        agent=body.agent,
        thread=thread_id,
        text=body.input,
        variables=body.variables,
        tokens=body.tokens,
    )


@router.post(
    "/runs",
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(NOT_FOUND, INVALID_CONFIG, *START),
    dependencies=[RUN],
)
async def create_run(
    body: RunRequest,
    request: Request,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> RunStarted:
    """Start a run of an agent's current version. Follow it at `events_url`."""
    return await _start(
        request,
        factory,
        settings,
        client,
        agent=body.agent,
        text=body.input,
        variables=body.variables,
        tokens=body.tokens,
    )


@router.post(
    "/routes/{key}/runs",
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(NOT_FOUND, INVALID_CONFIG, *START),
    dependencies=[RUN],
)
async def create_route_run(
    key: str,
    body: RouteRunRequest,
    request: Request,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> RunStarted:
    """Start a run of the agent a route points to."""
    return await _start(
        request,
        factory,
        settings,
        client,
        route=key,
        text=body.input,
        variables=body.variables,
        tokens=body.tokens,
    )


@router.get("/runs", responses=errors(BAD_PAGE_TOKEN, *TEMPORAL), dependencies=[READ])
async def list_recent_runs(
    client: TemporalDep,
    agent: Annotated[
        str | None, Query(pattern=NAME_PATTERN, description="only this agent's runs")
    ] = None,
    status: Annotated[
        ListedStatus | None, Query(description="only the runs in this (Temporal's) status")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="runs per page")] = 50,
    page_token: Annotated[
        str | None, Query(min_length=1, description="`next_page_token` of the previous page")
    ] = None,
) -> RunPage:
    """Runs from Temporal visibility: running ones first, then the closed ones, most recently
    closed first. `status` is Temporal's (a run stopped by a policy is `completed` here);
    `GET /v1/runs/{id}` has the run's own. Visibility is eventually consistent."""
    return await list_runs(
        client,
        agent=agent,
        status=status,
        page_size=limit,
        page_token=decode_page_token(page_token) if page_token is not None else None,
    )


@router.get("/runs/{run_id}", responses=errors(NOT_FOUND, *TEMPORAL), dependencies=[READ])
async def read_run(
    run_id: str, client: TemporalDep, workers: WorkersDep, settings: SettingsDep
) -> RunView:
    """Status, agent and version, stop reason, steps, token usage and the answer, and the run
    in the Temporal Web UI. With no worker to answer for a running run: `live` false, a
    `notice` why, and `last_events`."""
    view = await get_run(client, run_id, workers)
    return replace(view, temporal_ui_url=workflow_ui_url(settings, run_id))


class StreamToken(BaseModel):
    token: str = Field(description="opens this run's events only, until `expires_at`")
    expires_at: datetime
    events_url: str = Field(description="the events URL with the token in it, for an EventSource")


@router.post(
    "/runs/{run_id}/stream-token",
    status_code=status.HTTP_201_CREATED,
    responses=errors(NOT_FOUND, *TEMPORAL),
)
async def create_stream_token(
    run_id: str,
    request: Request,
    principal: Annotated[Principal, READ],
    client: TemporalDep,
    settings: SettingsDep,
) -> StreamToken:
    """A short-lived token for `GET /v1/runs/{run_id}/events?token=...`: how a browser's
    EventSource, which cannot send an `Authorization` header, follows a run. It is signed by
    the token that asked for it and dies with it (revocation) or at `expires_at`."""
    await ensure_exists(client, run_id)
    expires = int(time.time()) + settings.stream_token_ttl_s
    claims = StreamClaims(run_id=run_id, token_id=principal.token_id, expires_at=expires)
    token = sign(claims, principal.signing_key)
    base = public_base(request, settings)
    return StreamToken(
        token=token,
        expires_at=datetime.fromtimestamp(expires, UTC),
        events_url=f"{base}/v1/runs/{run_id}/events?token={token}",
    )


async def stream_start(
    run_id: str, client: TemporalDep, workers: WorkersDep
) -> tuple[str, NoWorker | None]:
    """404 before the stream starts, not an error in the middle of it; and whether a worker
    polls the run's task queue."""
    return run_id, await stream_check(client, run_id, workers)


@router.get(
    "/runs/{run_id}/events",
    response_class=EventSourceResponse,
    dependencies=[Depends(authenticate_stream)],
    responses=errors(NOT_FOUND, *TEMPORAL),
)
async def run_events(
    start: Annotated[tuple[str, NoWorker | None], Depends(stream_start)],
    hub: EventsDep,
    last_event_id: Annotated[int | None, Header()] = None,
    after: Annotated[
        int | None, Query(alias="from", description="resume after this event id")
    ] = None,
    include: Annotated[
        Literal["tokens"] | None,
        Query(description="`tokens`: also send the model's token deltas (`llm.delta`)"),
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """The run's events as Server-Sent Events; `id:` is the stream offset. Reconnect with
    `Last-Event-ID` (or `?from=`) to resume. The stream ends after the terminal event. With no
    worker polling the run's task queue: the events Temporal's history holds, then a
    `stream.unavailable` message saying why, and the stream waits for a worker."""
    run_id, no_worker = start
    resume = last_event_id if last_event_id is not None else after
    if no_worker is not None:
        for event in from_history(run_id, no_worker.events, resume):
            yield ServerSentEvent(id=str(event.offset), event=event.type, data=event.data)
            resume = event.offset
            if event.type in TERMINAL_EVENTS:
                return
        notice = {"notice": no_worker.notice, "task_queue": no_worker.task_queue}
        yield ServerSentEvent(event=STREAM_UNAVAILABLE, data=notice)
    async for event in hub.follow(run_id, resume):
        if event.type == "llm.delta" and include != "tokens":
            continue
        yield ServerSentEvent(
            id=str(event.offset) if event.offset >= 0 else None,
            event=event.type,
            data=event.data,
        )
