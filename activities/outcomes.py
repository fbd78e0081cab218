"""How a run ended, written into its runs row: the one activity of the loop's end.

The workflow runs it as a local activity (workflows/outcomes.py): on the worker that runs the
workflow, inside the workflow task that ends the run, so it costs one marker event in the
history and no round trip to the Temporal server. The activity only hands the outcome to the
worker's `OutcomeWriter`, a thread that writes what it is given in one transaction, so the
run's last workflow task does not wait for the database: under load the outcomes of many runs
share a commit. A write that fails is tried again (3 times in all), then logged. A worker that
stops writes what it holds before it exits; one killed in the moment between a run's end and
the write leaves that run's row without an outcome (the overview counts it as unfinished).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.worker_owned import ClosedWithWorker
from config_store.runs import record_outcome
from workflows.types import RunOutcome

log = logging.getLogger(__name__)
ATTEMPTS = 3
RETRY_DELAY_S = 0.2
CLOSE_TIMEOUT_S = 10.0


class OutcomeWriter(ClosedWithWorker):
    """Writes run outcomes from a thread of its own, all that are waiting in one transaction."""

    plugin_name = "orch.outcome-writer"

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._waiting: deque[RunOutcome] = deque()
        self._wake = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def submit(self, outcome: RunOutcome) -> None:
        """Queue `outcome` (never blocks on the database)."""
        with self._wake:
            self._waiting.append(outcome)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_all, name="orch-outcome-writer", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def flush(self, timeout: float = CLOSE_TIMEOUT_S) -> bool:
        """Wait until every outcome submitted so far is written (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self._waiting or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(left)
        return True

    async def close(self) -> None:
        """Write what is waiting, then stop the thread (called once the worker has stopped)."""
        thread = self._thread
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if thread is not None:  # joined off the event loop, bounded
            await asyncio.to_thread(thread.join, CLOSE_TIMEOUT_S)

    def _write_all(self) -> None:
        while True:
            with self._wake:
                while not self._waiting and not self._closed:
                    self._wake.wait()
                if not self._waiting:  # closed, nothing left
                    self._wake.notify_all()
                    return
                batch = list(self._waiting)
                self._waiting.clear()
                self._busy = True
            try:
                self._write(batch)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _write(self, batch: list[RunOutcome]) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self._factory() as session:
                    for outcome in batch:
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
                return
            except SQLAlchemyError as err:
                if attempt == ATTEMPTS:
                    runs = ", ".join(o.run_id for o in batch)
                    log.warning("could not record how run(s) %s ended: %s", runs, err)
                    return
                time.sleep(RETRY_DELAY_S * attempt)


class OutcomeActivities:
    def __init__(self, writer: OutcomeWriter) -> None:
        self._writer = writer

    @activity.defn(name="record_outcome")
    async def record_outcome(self, outcome: RunOutcome) -> None:
        self._writer.submit(outcome)
