"""How a run ended, written into its runs row: the one activity of the loop's end.

The workflow runs it as a local activity (workflows/outcomes.py): on the worker that runs the
workflow, inside the workflow task that ends the run, so it costs one marker event in the
history and no round trip to the Temporal server; what it costs is the UPDATE itself.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from config_store.runs import record_outcome
from workflows.types import RunOutcome


class OutcomeActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def _write(self, outcome: RunOutcome) -> None:
        with self._factory() as session:
            record_outcome(
                session,
                outcome.run_id,
                status=outcome.status,
                finished_at=outcome.finished_at,
                steps=outcome.steps,
                total_tokens=outcome.total_tokens,
                cost_usd=outcome.cost_usd,
                error=outcome.error,
            )
            session.commit()

    @activity.defn(name="record_outcome")
    async def record_outcome(self, outcome: RunOutcome) -> None:
        await asyncio.to_thread(self._write, outcome)
