"""CRUD on agents: /v1/agents. An update writes a new immutable version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.auth import ADMIN, READ
from api.deps import SessionDep
from api.openapi import CONFLICT, INVALID_CONFIG, NOT_FOUND, errors
from api.schemas import AgentCreate, AgentRead, AgentRollback, AgentUpdate
from config_store import agents as service
from config_store.specs import AgentIn

router = APIRouter(prefix="/v1/agents", tags=["agents"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=errors(CONFLICT, INVALID_CONFIG),
    dependencies=[ADMIN],
)
def create_agent(body: AgentCreate, session: SessionDep) -> AgentRead:
    spec = AgentIn.model_validate(body.model_dump(exclude={"name"}))
    return AgentRead.of(service.create_agent(session, body.name, spec))


@router.get("", dependencies=[READ])
def list_agents(session: SessionDep) -> list[AgentRead]:
    """The current version of every agent."""
    return [AgentRead.of(row) for row in service.list_agents(session)]


@router.get("/{name}", responses=errors(NOT_FOUND), dependencies=[READ])
def get_agent(
    name: str,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, description="Default: the current one.")] = None,
) -> AgentRead:
    return AgentRead.of(service.get_agent(session, name, version))


@router.get("/{name}/versions", responses=errors(NOT_FOUND), dependencies=[READ])
def list_agent_versions(name: str, session: SessionDep) -> list[AgentRead]:
    return [AgentRead.of(row) for row in service.list_versions(session, name)]


@router.put("/{name}", responses=errors(NOT_FOUND, CONFLICT, INVALID_CONFIG), dependencies=[ADMIN])
def update_agent(name: str, body: AgentUpdate, session: SessionDep) -> AgentRead:
    """Writes version n+1 if anything versioned changed; otherwise returns the current one."""
    return AgentRead.of(service.update_agent(session, name, body))


@router.post(
    "/{name}/rollback",
    status_code=status.HTTP_201_CREATED,
    responses=errors(NOT_FOUND, CONFLICT, INVALID_CONFIG),
    dependencies=[ADMIN],
)
def rollback_agent(name: str, body: AgentRollback, session: SessionDep) -> AgentRead:
    """Writes a new current version equal to version `version` (rolling back never rewrites
    history: the versions in between stay listed). 422 if a tool or provider that version
    names no longer exists."""
    return AgentRead.of(service.rollback_agent(session, name, body.version))


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(NOT_FOUND, CONFLICT),
    dependencies=[ADMIN],
)
def delete_agent(name: str, session: SessionDep) -> Response:
    service.delete_agent(session, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
