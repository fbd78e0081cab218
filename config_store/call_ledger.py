"""The ledger of non-idempotent tool calls: a row written before a call starts, finished in the
transaction that stores the call's result in the transcript (TranscriptStore.append).

A retry that finds its call's row started and unfinished knows that an earlier attempt began the
call and never stored an outcome (the worker stopped during it, or it timed out): it does not
call again. A row is also finished when an attempt fails in a way the tool reports as safe to
retry (a 429, a refused connection), so the next attempt calls again. A row is reopened once when
a person approved calling again although the outcome is unknown (`reopen_call`, a tool's
`on_unknown_outcome: ask`). Synchronous: async callers wrap calls in `asyncio.to_thread`.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from config_store.models import ToolCallLedger, utcnow

# "go": this attempt may call; "unknown": an earlier attempt started the call and never finished.
Start = Literal["go", "unknown"]


def start_call(
    session_factory: sessionmaker[Session], run_id: str, seq: int, call_id: str, attempt: int
) -> Start:
    """Write the row of this attempt of the call at transcript position `seq` before it calls
    (committed when this returns "go")."""
    with session_factory() as session:
        session.add(ToolCallLedger(run_id=run_id, seq=seq, call_id=call_id, attempt=attempt))
        try:
            session.commit()
            return "go"
        except IntegrityError:
            session.rollback()
        # A row exists: begun again only if its last attempt finished (a failure worth retrying).
        again: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(ToolCallLedger)
            .where(
                ToolCallLedger.run_id == run_id,
                ToolCallLedger.seq == seq,
                ToolCallLedger.finished_at.is_not(None),
            )
            .values(attempt=attempt, started_at=utcnow(), finished_at=None)
        )
        session.commit()
        return "go" if again.rowcount == 1 else "unknown"


def reopen_call(
    session_factory: sessionmaker[Session], run_id: str, seq: int, call_id: str, attempt: int
) -> Start:
    """Begin the call again although an earlier attempt left it unfinished, because a person
    approved it: "go" once per call (the row's `reopened` is set in the same update). Any later
    attempt is `start_call`'s: one that finds the reopened call cut off again gets "unknown"."""
    with session_factory() as session:
        reopened: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(ToolCallLedger)
            .where(
                ToolCallLedger.run_id == run_id,
                ToolCallLedger.seq == seq,
                ToolCallLedger.finished_at.is_(None),
                ToolCallLedger.reopened.is_(False),
            )
            .values(attempt=attempt, started_at=utcnow(), reopened=True)
        )
        session.commit()
    if reopened.rowcount == 1:
        return "go"
    return start_call(session_factory, run_id, seq, call_id, attempt)


def finish_call(session: Session, run_id: str, seq: int) -> None:
    """Mark the call finished, in the caller's transaction (no row: nothing to do)."""
    session.execute(
        update(ToolCallLedger)
        .where(
            ToolCallLedger.run_id == run_id,
            ToolCallLedger.seq == seq,
            ToolCallLedger.finished_at.is_(None),
        )
        .values(finished_at=utcnow())
    )


def end_attempt(session_factory: sessionmaker[Session], run_id: str, seq: int) -> None:
    """This attempt failed in a way that is safe to retry: the next one may call again."""
    with session_factory() as session:
        finish_call(session, run_id, seq)
        session.commit()


def get_call(
    session_factory: sessionmaker[Session], run_id: str, seq: int
) -> ToolCallLedger | None:
    with session_factory() as session:
        row = session.get(ToolCallLedger, (run_id, seq))
        if row is not None:
            session.expunge(row)
        return row
