"""CRUD on tools: /v1/tools."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import ADMIN, READ
from api.deps import SessionDep
from api.openapi import CONFLICT, INVALID_CONFIG, NOT_FOUND, errors
from api.schemas import ToolCreate, ToolRead, ToolUpdate
from config_store import tools as store
from config_store.specs import ToolIn
from services import tools as service

router = APIRouter(prefix="/v1/tools", tags=["tools"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=errors(CONFLICT, INVALID_CONFIG),
    dependencies=[ADMIN],
)
def create_tool(body: ToolCreate, session: SessionDep) -> ToolRead:
    spec = ToolIn.model_validate(body.model_dump(exclude={"name"}))
    return ToolRead.of(service.create_tool(session, body.name, spec))


@router.get("", dependencies=[READ])
def list_tools(session: SessionDep) -> list[ToolRead]:
    return [ToolRead.of(row) for row in store.list_tools(session)]


@router.get("/{name}", responses=errors(NOT_FOUND), dependencies=[READ])
def get_tool(name: str, session: SessionDep) -> ToolRead:
    return ToolRead.of(store.get_tool(session, name))


@router.put("/{name}", responses=errors(NOT_FOUND, INVALID_CONFIG), dependencies=[ADMIN])
def update_tool(name: str, body: ToolUpdate, session: SessionDep) -> ToolRead:
    return ToolRead.of(service.update_tool(session, name, body))


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(NOT_FOUND, CONFLICT),
    dependencies=[ADMIN],
)
def delete_tool(name: str, session: SessionDep) -> Response:
    store.delete_tool(session, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
