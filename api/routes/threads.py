"""Threads: conversations that go on over several runs."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import READ
from api.deps import SessionFactoryDep
from api.openapi import NOT_FOUND, errors
from config_store.runs import thread_runs
from config_store.transcript import TranscriptStore
from core.errors import NotFound

router = APIRouter(prefix="/v1/threads", tags=["threads"])


class ThreadRun(BaseModel):
    run_id: str
    agent: str
    agent_version: int
    input: str
    created_at: str


class Thread(BaseModel):
    thread_id: str
    runs: list[ThreadRun]
    transcript: list[dict[str, Any]]  # every message so far: the last run's transcript


@router.get("/{thread_id}", responses=errors(NOT_FOUND), dependencies=[READ])
async def read_thread(thread_id: str, factory: SessionFactoryDep) -> Thread:
    """The thread's runs, oldest first, and its whole conversation so far."""

    def read() -> Thread:
        with factory() as session:
            runs = thread_runs(session, thread_id)
        if not runs:
            raise NotFound(f"no thread {thread_id!r}")
        messages = TranscriptStore(factory).read(runs[-1].run_id)
        return Thread(
            thread_id=thread_id,
            runs=[
                ThreadRun(
                    run_id=r.run_id,
                    agent=r.agent_name,
                    agent_version=r.agent_version,
                    input=r.input,
                    created_at=r.created_at.isoformat(),
                )
                for r in runs
            ],
            transcript=[{"seq": seq, **body} for seq, body in messages],
        )

    return await asyncio.to_thread(read)
