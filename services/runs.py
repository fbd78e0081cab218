"""Starting a run, as the API and the CLI both do it: snapshot, render the prompt, start, record."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from config_store.db import autocommit, engine_of, is_sqlite
from config_store.prepared import held_prepared_agent, prepared_agent
from config_store.routes import resolve_route
from config_store.runs import forget_run, insert_run, thread_runs
from config_store.transcript import TranscriptStore
from config_store.validation import check_name
from core.errors import Conflict
from temporal.runs import ended_status, start_run
from workflows.types import AgentSpec

log = logging.getLogger(__name__)


def new_run_id() -> str:
    return f"run-{uuid.uuid4().hex}"


async def launch_run(
    factory: sessionmaker[Session],
    client: Client,
    *,
    task_queue: str,
    text: str,
    agent: str | None = None,
    route: str | None = None,
    variables: Mapping[str, Any] | None = None,
    today: date | None = None,
    thread: str | None = None,
    follow: bool = False,
) -> tuple[str, AgentSpec]:
    """Start a run of `agent` (or of the agent `route` points to) at its current version.

    The version is snapshotted first, so editing the agent later never changes a started run.
    Its system prompt template is rendered with `text`, the agent's name, `today` (default: the
    current UTC date) and `variables`; the run gets the rendered text. Everything is checked
    before Temporal is called: a bad template or variable starts no run.
    Returns the run id and the snapshot. Raises NotFound for an unknown agent or route,
    InvalidConfig for a prompt that does not render (`system_prompt`, `variables.<name>`).

    With `thread`, the run continues that conversation: the transcript of the thread's last run
    (which holds every earlier turn) is copied in front of its input. The last run must have
    ended (Conflict otherwise). `follow`: the caller follows the run's stream from its start, so
    its first model call streams its tokens.
    """
    if thread is not None:
        check_name(thread, "thread_id")
    run_date = today or datetime.now(UTC).date()

    def name_of(session: Session) -> str:
        return agent if agent is not None else resolve_route(session, route or "")

    def prepare() -> tuple[AgentSpec, str | None]:
        with factory() as session:
            spec = prepared_agent(
                session, name_of(session), input=text, today=run_date, variables=variables or {}
            )
            earlier = thread_runs(session, thread) if thread is not None else []
        return spec, earlier[-1].run_id if earlier else None

    def prepare_held() -> AgentSpec | None:
        held = partial(held_prepared_agent, input=text, today=run_date, variables=variables or {})
        if agent is not None:  # a Core connection: no ORM session to set up and tear down
            with engine_of(factory).connect() as connection:
                return held(connection, agent)
        with factory() as session:
            return held(session, name_of(session))

    # On SQLite, a start outside a thread whose snapshot the process holds, with no template to
    # render, reads it on the event loop: a query or two on a local file, cheaper than the
    # thread hop, which waits for a core on a busy machine (docs/architecture.md, "Decisions").
    # Everything else is read in a thread (a thread's runs, which grow with it, too).
    held = prepare_held() if thread is None and is_sqlite(factory) else None
    spec, last = (held, None) if held is not None else await asyncio.to_thread(prepare)
    run_id = new_run_id()
    history = 0
    if last is not None:
        if await ended_status(client, last) is None:
            raise Conflict(f"thread {thread!r} has a run in progress ({last}); wait for it to end")
        store = TranscriptStore(factory)
        bodies = [body for _, body in await asyncio.to_thread(store.read, last)]
        await asyncio.to_thread(store.append, run_id, 0, bodies)
        history = len(bodies)
    start = start_run(
        client,
        task_queue=task_queue,
        run_id=run_id,
        agent=spec,
        input=text,
        history=history,
        follow=follow,
    )

    def record() -> None:  # one INSERT, committed by itself (config_store/db.py `autocommit`)
        with autocommit(factory) as connection:
            insert_run(connection, run_id, spec.name, spec.version, route, text, thread_id=thread)

    if thread is not None:
        # A thread's next run looks its last one up in the records: only a started run may be
        # there, so the record follows the start.
        await start
        await asyncio.to_thread(record)
    else:
        await _start_recording(start, record, lambda: _forget(factory, run_id))
    return run_id, spec


async def _start_recording(
    start: Awaitable[None], record: Callable[[], None], forget: Callable[[], None]
) -> None:
    """Start the workflow while its record is written in a thread, so that the record adds no
    time of its own to the start; a start that fails takes the record back."""
    recording = asyncio.ensure_future(asyncio.to_thread(record))
    try:
        await start
    except BaseException:
        await asyncio.shield(_take_back(recording, forget))
        raise
    await recording


async def _take_back(recording: asyncio.Future[None], forget: Callable[[], None]) -> None:
    try:
        await recording
    except Exception:  # nothing was written
        return
    try:
        await asyncio.to_thread(forget)
    except Exception:  # the start's own error is the one to report
        log.warning("could not remove the record of a run that did not start", exc_info=True)


def _forget(factory: sessionmaker[Session], run_id: str) -> None:
    with factory.begin() as session:
        forget_run(session, run_id)
