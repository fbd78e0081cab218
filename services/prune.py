"""Pruning the records that keep a retried tool call from acting twice: the rows of
`tool_call_ledger` (config_store/call_ledger.py) and the write_file journal in the workspace's
`.orch-effects/` (activities/tools/effects.py). Without it both grow with every call.

A record goes once it is older than EFFECTS_RETENTION_DAYS: a finished row or a journal entry
of a write that is done by when it finished, an unfinished one (a call cut off by a crash) by
when its last attempt started. A retry of a call comes within its activity's retry window
(the tool's timeout_s × retry_attempts, plus at most 100 s between attempts), which the
retention must exceed (docs/operations.md). The worker prunes at start and every PRUNE_EVERY
(`pruning`); `orch prune` prunes once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from activities.tools import effects
from config_store import call_ledger
from core.settings import Settings

PRUNE_EVERY = timedelta(hours=6)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruned:
    calls: int  # tool_call_ledger rows deleted
    writes: int  # write_file journal records removed


def retention(settings: Settings) -> timedelta | None:
    """EFFECTS_RETENTION_DAYS as a timedelta; None when it is 0 (never prune)."""
    days = settings.effects_retention_days
    return timedelta(days=days) if days > 0 else None


def prune_effects(
    session_factory: sessionmaker[Session],
    workspace_dir: Path,
    keep: timedelta,
    *,
    now: datetime | None = None,
) -> Pruned:
    """Delete the ledger rows and journal records older than `keep` (each bounded: at most
    call_ledger.PRUNE_LIMIT rows and 50,000 records, in small batches). Synchronous."""
    before = (now or datetime.now(UTC)) - keep
    calls = call_ledger.prune_calls(session_factory, before)
    writes = effects.prune_workspace(workspace_dir, keep.total_seconds())
    return Pruned(calls=calls, writes=writes)


async def prune_periodically(
    session_factory: sessionmaker[Session],
    workspace_dir: Path,
    keep: timedelta,
    *,
    every: timedelta = PRUNE_EVERY,
) -> None:
    """Prune now and then every `every`, until cancelled. A failed prune is logged and tried
    again at the next turn: it never stops the worker."""
    while True:
        try:
            pruned = await asyncio.to_thread(prune_effects, session_factory, workspace_dir, keep)
        except Exception as err:
            log.warning("pruning the effect records failed (tried again later): %s", err)
        else:
            if pruned.calls or pruned.writes:
                log.info(
                    "pruned %d call ledger rows and %d write_file records older than %s",
                    pruned.calls,
                    pruned.writes,
                    keep,
                )
        await asyncio.sleep(every.total_seconds())


@contextlib.asynccontextmanager
async def pruning(
    settings: Settings, session_factory: sessionmaker[Session]
) -> AsyncIterator[None]:
    """While the block runs, prune the effect records of `settings` in a background task (none
    with EFFECTS_RETENTION_DAYS=0); the task is cancelled when the block ends."""
    keep = retention(settings)
    if keep is None:
        yield
        return
    task = asyncio.create_task(
        prune_periodically(session_factory, settings.workspace_dir.resolve(), keep),
        name="prune-effects",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
