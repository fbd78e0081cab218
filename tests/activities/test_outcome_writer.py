"""The worker's outcome writer: outcomes handed to it land in the runs table, many in one
transaction, and what it holds is written before it stops."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from activities.outcomes import OutcomeWriter
from config_store.models import Run
from workflows.types import RunOutcome


def add_runs(factory: sessionmaker[Session], count: int) -> list[str]:
    ids = [f"run-w{i}" for i in range(count)]
    with factory() as session:
        session.add_all(Run(run_id=i, agent_name="demo", agent_version=1, input="x") for i in ids)
        session.commit()
    return ids


def outcome(run_id: str) -> RunOutcome:
    return RunOutcome(
        run_id=run_id,
        status="completed",
        finished_at=datetime.now(UTC),
        steps=2,
        total_tokens=30,
        cost_usd=0.5,
        error=None,
    )


def statuses(factory: sessionmaker[Session], ids: list[str]) -> list[Any]:
    with factory() as session:
        return [session.get(Run, i).status for i in ids]  # type: ignore[union-attr]


async def test_outcomes_waiting_together_share_one_commit(session_factory: Any) -> None:
    factory: sessionmaker[Session] = session_factory
    ids = add_runs(factory, 20)
    writer = OutcomeWriter(factory)
    commits: list[int] = []
    engine = factory.kw["bind"]
    event.listen(engine, "commit", lambda conn: commits.append(1))
    gate = threading.Event()
    # Hold the writer's first transaction until all 20 are queued behind it.
    event.listen(engine, "begin", lambda conn: gate.wait(5), once=True)
    for run_id in ids:
        writer.submit(outcome(run_id))
    gate.set()
    assert writer.flush()
    assert statuses(factory, ids) == ["completed"] * 20
    assert len(commits) <= 2
    await writer.close()


async def test_closing_writes_what_is_waiting(session_factory: Any) -> None:
    factory: sessionmaker[Session] = session_factory
    ids = add_runs(factory, 3)
    writer = OutcomeWriter(factory)
    for run_id in ids:
        writer.submit(outcome(run_id))
    await writer.close()
    assert statuses(factory, ids) == ["completed"] * 3
