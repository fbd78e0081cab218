"""The transcript store: a run's conversation, one JSON body per (run_id, seq).

Appends are idempotent and first-write-wins, so an activity retried by Temporal (or two workers
racing on the same step) never duplicates or rewrites a message. Synchronous: async callers wrap
calls in `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from config_store.call_ledger import finish_call
from config_store.db import autocommit
from config_store.models import TranscriptEntry

ENTRIES = cast(Table, TranscriptEntry.__table__)


class TranscriptStore:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self._session_factory

    def append(
        self,
        run_id: str,
        first_seq: int,
        bodies: Sequence[dict[str, Any]],
        *,
        finishing: bool = False,
    ) -> list[dict[str, Any]]:
        """Write body i at seq `first_seq + i` unless that seq is already written.

        Returns the bodies as stored: for a seq written before, the earlier body wins.
        `finishing`: the body is a tool call's result; the call's row in the call ledger
        (config_store/call_ledger.py, at `first_seq`) is finished in the same transaction.
        """
        if first_seq < 0:
            raise ValueError(f"first_seq must be >= 0, got {first_seq}")
        if not bodies:
            return []
        wanted = dict(enumerate(bodies, start=first_seq))
        if self._insert_new(run_id, first_seq, wanted, finishing):
            return list(bodies)
        # Every failed attempt means another writer stored at least one of our seqs, so this
        # converges in at most len(bodies) + 1 rounds.
        for _ in range(len(bodies) + 1):
            with self._session_factory() as session:
                stored = self._range(session, run_id, first_seq, first_seq + len(bodies))
                missing = {seq: body for seq, body in wanted.items() if seq not in stored}
                if finishing:
                    finish_call(session, run_id, first_seq)
                if not missing:
                    session.commit()
                    return [stored[seq] for seq in wanted]
                try:
                    session.execute(insert(ENTRIES), self._rows(run_id, missing))
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    continue
                stored.update(missing)
                return [stored[seq] for seq in wanted]
        raise RuntimeError(f"could not append to the transcript of {run_id!r}")  # unreachable

    def _insert_new(
        self, run_id: str, first_seq: int, wanted: dict[int, dict[str, Any]], finishing: bool
    ) -> bool:
        """The common case: nothing written there yet, one INSERT (Core, not the ORM's unit of
        work: a model step writes one or two of these, and the ORM's flush cost 2-3x the CPU).
        False when one of the seqs is already written (nothing is written then)."""
        rows = self._rows(run_id, wanted)
        if len(rows) == 1 and not finishing:
            # One row, one statement, committed by itself: on SQLite the write lock is held
            # only while the statement runs (config_store/db.py `autocommit`).
            try:
                with autocommit(self._session_factory) as connection:
                    connection.execute(insert(ENTRIES), rows[0])
            except IntegrityError:
                return False
            return True
        with self._session_factory() as session:
            try:
                session.execute(insert(ENTRIES), rows)
                if finishing:
                    finish_call(session, run_id, first_seq)
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    def read(
        self, run_id: str, upto: int | None = None, start: int = 0
    ) -> list[tuple[int, dict[str, Any]]]:
        """Entries ordered by seq, only those with `start` <= seq (< `upto` when given)."""
        stmt = select(ENTRIES.c.seq, ENTRIES.c.body).where(ENTRIES.c.run_id == run_id)
        if start > 0:
            stmt = stmt.where(ENTRIES.c.seq >= start)
        if upto is not None:
            stmt = stmt.where(ENTRIES.c.seq < upto)
        with self._session_factory() as session:
            rows = session.execute(stmt.order_by(ENTRIES.c.seq))
            return [(seq, body) for seq, body in rows]

    def get(self, run_id: str, seq: int) -> dict[str, Any] | None:
        stmt = select(ENTRIES.c.body).where(ENTRIES.c.run_id == run_id, ENTRIES.c.seq == seq)
        with self._session_factory() as session:
            body: dict[str, Any] | None = session.execute(stmt).scalar_one_or_none()
            return body

    @staticmethod
    def _rows(run_id: str, bodies: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"run_id": run_id, "seq": seq, "role": str(body.get("role", "")), "body": body}
            for seq, body in bodies.items()
        ]

    @staticmethod
    def _range(session: Session, run_id: str, start: int, stop: int) -> dict[int, dict[str, Any]]:
        rows = session.execute(
            select(ENTRIES.c.seq, ENTRIES.c.body).where(
                ENTRIES.c.run_id == run_id, ENTRIES.c.seq >= start, ENTRIES.c.seq < stop
            )
        )
        return {seq: body for seq, body in rows}
