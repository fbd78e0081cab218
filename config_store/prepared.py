"""The agent a run starts with: its version's snapshot, with the system prompt rendered.

Both ways a run starts share it: a top-level run (services/runs.py) and a sub-agent run
(activities/subagents.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from config_store.snapshot_cache import SNAPSHOTS
from core.prompts import is_template, render_system_prompt
from workflows.types import AgentSpec


def prepared_agent(
    session: Session,
    name: str,
    *,
    input: str,
    today: date,
    variables: Mapping[str, Any],
    version: int | None = None,
) -> AgentSpec:
    """Snapshot agent `name` (at `version`, default the current one) and render its prompt
    template with `input`, the agent's name, `today` and `variables`. NotFound for an unknown
    agent or version; InvalidConfig for a prompt that does not render. The snapshot comes from
    the process's cache when nothing it reads changed (config_store/snapshot_cache.py)."""
    spec = SNAPSHOTS.snapshot(session, name, version)
    return _rendered(spec, input=input, today=today, variables=variables)


def held_prepared_agent(
    db: Session | Connection,
    name: str,
    *,
    input: str,
    today: date,
    variables: Mapping[str, Any],
) -> AgentSpec | None:
    """`prepared_agent` of the current version when it is quick to answer: the process's cache
    holds the snapshot and the system prompt is plain text, with no template to render. None
    otherwise (an unknown agent too: `prepared_agent` says why). One query, the cache's stamp."""
    spec = SNAPSHOTS.cached(db, name)
    if spec is None or is_template(spec.system_prompt):
        return None
    return _rendered(spec, input=input, today=today, variables=variables)


def _rendered(
    spec: AgentSpec, *, input: str, today: date, variables: Mapping[str, Any]
) -> AgentSpec:
    rendered = render_system_prompt(
        spec.system_prompt,
        agent=spec.name,
        input=input,
        date=today,
        variables=variables,
        declared=spec.prompt_variables,
    )
    if rendered == spec.system_prompt:  # plain text: the snapshot as it is, not a copy
        return spec
    return dataclasses.replace(spec, system_prompt=rendered)
