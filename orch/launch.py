"""Starting a run, as the API and the CLI both do it: snapshot, start, record."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from config_store.agents import snapshot_agent
from config_store.routes import resolve_route
from config_store.runs import record_run
from temporal.runs import start_run
from workflows.types import AgentSpec


def new_run_id() -> str:
    return f"run-{uuid.uuid4().hex}"


async def launch_run(
    factory: sessionmaker[Session],
    client: Client,
    *,
    task_queue: str,
    text: str,
    agent: str | None = None,
    route: str | None = None,
) -> tuple[str, AgentSpec]:
    """Start a run of `agent` (or of the agent `route` points to) at its current version.

    The version is snapshotted first, so editing the agent later never changes a started run.
    Returns the run id and the snapshot. Raises NotFound for an unknown agent or route.
    """

    def snapshot() -> AgentSpec:
        with factory() as session:
            name = agent if agent is not None else resolve_route(session, route or "")
            return snapshot_agent(session, name)

    spec = await asyncio.to_thread(snapshot)
    run_id = new_run_id()
    await start_run(client, task_queue=task_queue, run_id=run_id, agent=spec, input=text)

    def record() -> None:
        with factory.begin() as session:
            record_run(session, run_id, spec.name, spec.version, route, text)

    await asyncio.to_thread(record)
    return run_id, spec
