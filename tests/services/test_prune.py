"""Pruning the effect records (services/prune.py) against a real store (SQLite, and Postgres with
TEST_POSTGRES_URL) and a real workspace: rows and journal records older than the retention go;
newer ones stay, and so does an unfinished row whose call may still be retried."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from activities.tools.effects import LEDGER_DIR
from activities.tools.write_file import write_text
from config_store import call_ledger
from config_store.db import make_engine, make_session_factory
from config_store.models import ToolCallLedger
from core.settings import Settings
from services.prune import prune_effects, prune_periodically, pruning, retention
from tests.support.cli import orch

WEEK = timedelta(days=7)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def ledger_row(
    factory: sessionmaker[Session],
    run_id: str,
    seq: int,
    *,
    started: datetime,
    finished: datetime | None,
) -> None:
    assert call_ledger.start_call(factory, run_id, seq, f"c{seq}", 1) == "go"
    with factory() as session:
        session.execute(
            update(ToolCallLedger)
            .where(ToolCallLedger.run_id == run_id, ToolCallLedger.seq == seq)
            .values(started_at=started, finished_at=finished)
        )
        session.commit()


def left(factory: sessionmaker[Session]) -> set[tuple[str, int]]:
    with factory() as session:
        rows = session.execute(select(ToolCallLedger.run_id, ToolCallLedger.seq)).all()
    return {(run_id, seq) for run_id, seq in rows}


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_rows_older_than_the_retention_go_and_newer_or_retryable_ones_stay(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    day = timedelta(days=1)
    # Finished 8 days ago, and cut off 8 days ago: past any retry of their call.
    ledger_row(session_factory, "old", 1, started=NOW - 8 * day, finished=NOW - 8 * day)
    ledger_row(session_factory, "old", 2, started=NOW - 8 * day, finished=None)
    # Started long ago, finished recently (a long call): finished within the retention.
    ledger_row(session_factory, "slow", 1, started=NOW - 9 * day, finished=NOW - day)
    # Finished yesterday; unfinished since a minute ago (its run may retry it).
    ledger_row(session_factory, "new", 1, started=NOW - day, finished=NOW - day)
    ledger_row(session_factory, "new", 2, started=NOW - timedelta(minutes=1), finished=None)

    pruned = prune_effects(session_factory, tmp_path, WEEK, now=NOW)

    assert pruned.calls == 2 and pruned.writes == 0
    assert left(session_factory) == {("slow", 1), ("new", 1), ("new", 2)}
    assert not (tmp_path / LEDGER_DIR).exists()  # no ledger: none is made
    # The unfinished recent row still does its work: a retry reports, does not call again.
    assert call_ledger.start_call(session_factory, "new", 2, "c2", 2) == "unknown"


def test_prunes_in_bounded_batches(session_factory: sessionmaker[Session]) -> None:
    for seq in range(7):
        ledger_row(session_factory, "many", seq, started=NOW - 2 * WEEK, finished=NOW - 2 * WEEK)

    assert call_ledger.prune_calls(session_factory, NOW - WEEK, batch=2, limit=5) == 5
    assert len(left(session_factory)) == 2  # the rest waits for the next prune
    assert call_ledger.prune_calls(session_factory, NOW - WEEK, batch=2) == 2
    assert left(session_factory) == set()


def test_journal_records_older_than_the_retention_go(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    keys = [f"orch-{n:032x}-1" for n in range(4)]
    for n, key in enumerate(keys):
        write_text(tmp_path, f"f{n}.txt", "x", effect_key=key)
    ledger = tmp_path / LEDGER_DIR
    eight_days = 8 * 86_400
    age(ledger / f"{keys[0]}.json", eight_days)  # done 8 days ago
    age(ledger / f"{keys[1]}.json", 86_400)  # done yesterday
    # Cut off 8 days ago after its commit (the rename never ran): its record and link go.
    (ledger / f"{keys[2]}.json").write_text(json.dumps({"result": "r", "done": False}))
    os.link(tmp_path / "f2.txt", ledger / keys[2])
    age(ledger / f"{keys[2]}.json", eight_days)
    age(ledger / keys[2], eight_days)
    # A record written a moment ago by an attempt still in progress (not done): it stays.
    (ledger / f"{keys[3]}.json").write_text(json.dumps({"result": "r", "done": False}))

    pruned = prune_effects(session_factory, tmp_path, WEEK)

    assert pruned.writes == 2
    assert sorted(p.name for p in ledger.iterdir()) == [f"{keys[1]}.json", f"{keys[3]}.json"]
    assert (tmp_path / "f2.txt").read_text() == "x"  # the files written are not touched
    # A retry of the pruned write is a write afresh, of the same content.
    assert write_text(tmp_path, "f0.txt", "x", effect_key=keys[0])
    assert (tmp_path / "f0.txt").read_text() == "x"


def test_the_retention_setting() -> None:
    assert retention(Settings()) == WEEK
    assert retention(Settings(effects_retention_days=0)) is None


async def test_the_worker_prunes_at_start_and_stops_pruning_when_it_stops(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ledger_row(session_factory, "old", 1, started=NOW - 2 * WEEK, finished=None)
    settings = Settings(workspace_dir=tmp_path)
    async with pruning(settings, session_factory):
        for _ in range(100):
            if not left(session_factory):
                break
            await asyncio.sleep(0.05)
        tasks = [t for t in asyncio.all_tasks() if t.get_name() == "prune-effects"]
        assert len(tasks) == 1
    assert left(session_factory) == set()
    assert tasks[0].cancelled()


async def test_a_failed_prune_does_not_stop_the_loop(tmp_path: Path) -> None:
    def broken() -> Session:
        raise OSError("the database is gone")

    task = asyncio.create_task(
        prune_periodically(
            broken,  # type: ignore[arg-type]
            tmp_path,
            WEEK,
            every=timedelta(milliseconds=10),
        )
    )
    await asyncio.sleep(0.1)
    assert not task.done()
    task.cancel()


def test_orch_prune_prunes_once(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    ledger_row(factory, "old", 1, started=NOW - 2 * WEEK, finished=NOW - 2 * WEEK)
    ledger_row(factory, "new", 1, started=datetime.now(UTC), finished=None)
    env = {**os.environ, "DATABASE_URL": sqlite_url, "WORKSPACE_DIR": str(tmp_path)}

    done = orch(env, "prune")

    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "prune: 1 call ledger rows and 0 write_file records older than 7 days deleted\n"
    )
    assert left(factory) == {("new", 1)}
    off = orch({**env, "EFFECTS_RETENTION_DAYS": "0"}, "prune")
    assert off.stdout == "prune: EFFECTS_RETENTION_DAYS is 0, nothing is pruned\n"
    engine.dispose()
