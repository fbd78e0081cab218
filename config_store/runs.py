"""A record of each started run. The run itself (state, history, result) lives in Temporal."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config_store.models import Run
from core.errors import Conflict, NotFound
from workflows.kinds import OutcomeStatus
from workflows.types import OUTCOME_ERROR_CHARS

RUNS = cast(Table, Run.__table__)


def record_run(
    session: Session,
    run_id: str,
    agent_name: str,
    agent_version: int,
    route_key: str | None,
    input: str,
    thread_id: str | None = None,
    parent_run_id: str | None = None,
) -> None:
    """Record a started run. Recording the same run twice is a no-op; a different one with the
    same id is a Conflict."""
    existing = session.get(Run, run_id)
    if existing is not None:
        same = (existing.agent_name, existing.agent_version, existing.route_key, existing.input)
        if same != (agent_name, agent_version, route_key, input):
            raise Conflict(f"a different run {run_id!r} is already recorded")
        return
    insert_run(
        session, run_id, agent_name, agent_version, route_key, input, thread_id, parent_run_id
    )


def insert_run(
    db: Session | Connection,
    run_id: str,
    agent_name: str,
    agent_version: int,
    route_key: str | None,
    input: str,
    thread_id: str | None = None,
    parent_run_id: str | None = None,
) -> None:
    """Record a run whose id is new (one INSERT, no read first); Conflict if it is not.

    A Core INSERT, not the ORM's unit of work: it is on every start's path (POST /v1/runs), where
    adding and flushing an ORM object cost about a tenth of the API's CPU a start.
    """
    values = {
        "run_id": run_id,
        "agent_name": agent_name,
        "agent_version": agent_version,
        "route_key": route_key,
        "input": input,
        "thread_id": thread_id,
        "parent_run_id": parent_run_id,
    }
    try:
        db.execute(insert(RUNS), [values])
    except IntegrityError as e:
        raise Conflict(f"run {run_id!r} is already recorded") from e


def forget_run(session: Session, run_id: str) -> None:
    """Remove the record of a run that did not start after all."""
    session.execute(delete(Run).where(Run.run_id == run_id))


def list_runs(session: Session, limit: int = 50, agent_name: str | None = None) -> list[Run]:
    """Most recent first."""
    stmt = select(Run).order_by(Run.created_at.desc(), Run.run_id).limit(limit)
    if agent_name is not None:
        stmt = stmt.where(Run.agent_name == agent_name)
    return list(session.scalars(stmt))


def get_run(session: Session, run_id: str) -> Run:
    row = session.get(Run, run_id)
    if row is None:
        raise NotFound(f"no run {run_id!r}")
    return row


def thread_runs(session: Session, thread_id: str) -> list[Run]:
    """The runs of a thread, oldest first."""
    stmt = select(Run).where(Run.thread_id == thread_id).order_by(Run.created_at, Run.run_id)
    return list(session.scalars(stmt))


def record_outcome(
    session: Session,
    run_id: str,
    *,
    status: OutcomeStatus,
    finished_at: datetime,
    steps: int,
    total_tokens: int,
    cost_usd: float,
    error: str | None,
) -> bool:
    """Write how a recorded run ended (one UPDATE by primary key); False if no row has that id
    (a run started straight on Temporal, not through the API). Writing it again is harmless."""
    result = session.execute(
        update(Run)
        .where(Run.run_id == run_id)
        .values(
            status=status,
            finished_at=finished_at,
            steps=steps,
            total_tokens=total_tokens,
            cost_usd=cost_usd,
            error=error[:OUTCOME_ERROR_CHARS] if error is not None else None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
