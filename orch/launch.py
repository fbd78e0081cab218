"""Starting a run, as the API and the CLI both do it: snapshot, render the prompt, start, record."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from config_store.agents import snapshot_agent
from config_store.routes import resolve_route
from config_store.runs import record_run
from orch.prompts import render_system_prompt
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
    variables: Mapping[str, Any] | None = None,
    today: date | None = None,
) -> tuple[str, AgentSpec]:
    """Start a run of `agent` (or of the agent `route` points to) at its current version.

    The version is snapshotted first, so editing the agent later never changes a started run.
    Its system prompt template is rendered with `text`, the agent's name, `today` (default: the
    current UTC date) and `variables`; the run gets the rendered text. Everything is checked
    before Temporal is called: a bad template or variable starts no run.
    Returns the run id and the snapshot. Raises NotFound for an unknown agent or route,
    InvalidConfig for a prompt that does not render (`system_prompt`, `variables.<name>`).
    """
    run_date = today or datetime.now(UTC).date()

    def prepare() -> AgentSpec:
        with factory() as session:
            name = agent if agent is not None else resolve_route(session, route or "")
            spec = snapshot_agent(session, name)
        rendered = render_system_prompt(
            spec.system_prompt,
            agent=spec.name,
            input=text,
            date=run_date,
            variables=variables or {},
            declared=spec.prompt_variables,
        )
        return dataclasses.replace(spec, system_prompt=rendered)

    spec = await asyncio.to_thread(prepare)
    run_id = new_run_id()
    await start_run(client, task_queue=task_queue, run_id=run_id, agent=spec, input=text)

    def record() -> None:
        with factory.begin() as session:
            record_run(session, run_id, spec.name, spec.version, route, text)

    await asyncio.to_thread(record)
    return run_id, spec
