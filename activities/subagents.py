"""The activity that prepares a sub-agent run: the agent a sub-agent tool names, as a snapshot.

The parent's workflow cannot read the config store, so this activity does what the API does for a
top-level run: snapshot the agent's version (pinned when the parent started), render its system
prompt with the call's input and variables, and record the child run with its parent. A problem
the model could not fix by retrying (the agent was deleted, a variable is missing) fails for good
with type "SubagentUnavailable"; the parent turns it into an error result for the model.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from config_store.prepared import prepared_agent
from config_store.runs import record_run
from core.errors import InvalidConfig, NotFound
from workflows.types import AgentSpec, SubagentRequest

UNAVAILABLE = "SubagentUnavailable"


class SubagentActivities:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory

    @activity.defn(name="resolve_subagent")
    async def resolve_subagent(self, request: SubagentRequest) -> AgentSpec:
        try:
            return await asyncio.to_thread(self._resolve, request)
        except (NotFound, InvalidConfig) as err:
            raise ApplicationError(
                f"sub-agent {request.agent!r} cannot run: {_problem(err)}",
                type=UNAVAILABLE,
                non_retryable=True,
            ) from err

    def _resolve(self, request: SubagentRequest) -> AgentSpec:
        with self._session_factory.begin() as session:
            spec = prepared_agent(
                session,
                request.agent,
                input=request.input,
                today=datetime.now(UTC).date(),
                variables=request.variables,
                version=request.version,
            )
            record_run(
                session,
                request.run_id,
                spec.name,
                spec.version,
                None,
                request.input,
                parent_run_id=request.parent_run_id,
            )
        return spec


def _problem(err: NotFound | InvalidConfig) -> str:
    if isinstance(err, InvalidConfig):
        return f"{err.field}: {err.problem}"
    return str(err)
