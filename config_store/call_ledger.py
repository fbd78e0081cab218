"""The ledger of non-idempotent tool calls: a row written before a call starts, finished in the
transaction that stores the call's result in the transcript (TranscriptStore.append).

A retry that finds its call's row started and unfinished knows that an earlier attempt began the
call and never stored an outcome (the worker stopped during it, or it timed out): it does not
call again. A row is also finished when an attempt fails in a way the tool reports as safe to
retry (a 429, a refused connection), so the next attempt calls again. A row is reopened once when
a person approved calling again although the outcome is unknown (`reopen_call`, a tool's
`on_unknown_outcome: ask`). Synchronous: async callers wrap calls in `asyncio.to_thread`.

`prune_calls` deletes old rows (services/prune.py runs it). A finished row is no longer needed by
any retry (the transcript holds the result, or the attempt ended in a way safe to repeat, which a
missing row means too); an unfinished one is what stops a retry from calling again, so it goes
only once it is older than any retry of its call can come.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import CursorResult, and_, delete, or_, select, tuple_, update
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


# Rows deleted per transaction by prune_calls: short transactions, short locks.
PRUNE_BATCH = 500
# Rows one prune_calls call deletes at most; the rest waits for the next prune.
PRUNE_LIMIT = 50_000


def prune_calls(
    session_factory: sessionmaker[Session],
    before: datetime,
    *,
    batch: int = PRUNE_BATCH,
    limit: int = PRUNE_LIMIT,
) -> int:
    """Delete the rows finished before `before`, and the unfinished ones whose last attempt
    started before it; `batch` rows per transaction, at most `limit` in all. How many went."""
    old = or_(
        ToolCallLedger.finished_at < before,
        and_(ToolCallLedger.finished_at.is_(None), ToolCallLedger.started_at < before),
    )
    removed = 0
    while removed < limit:
        with session_factory() as session:
            keys = session.execute(
                select(ToolCallLedger.run_id, ToolCallLedger.seq)
                .where(old)
                .limit(min(batch, limit - removed))
            ).all()
            if not keys:
                break
            gone: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                delete(ToolCallLedger).where(
                    tuple_(ToolCallLedger.run_id, ToolCallLedger.seq).in_(
                        [tuple(key) for key in keys]
                    ),
                    old,  # a row begun again meanwhile is no longer old
                )
            )
            session.commit()
        removed += gone.rowcount
        if len(keys) < batch:
            break
    return removed
