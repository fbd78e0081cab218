"""CRUD on routes: /v1/routes. (Starting a run through a route lives with the runs API.)"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import ADMIN, READ
from api.deps import SessionDep
from api.openapi import CONFLICT, INVALID_CONFIG, NOT_FOUND, errors
from api.schemas import RouteCreate, RouteRead, RouteUpdate
from config_store import routes as service
from config_store.specs import RouteIn

router = APIRouter(prefix="/v1/routes", tags=["routes"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=errors(CONFLICT, INVALID_CONFIG),
    dependencies=[ADMIN],
)
def create_route(body: RouteCreate, session: SessionDep) -> RouteRead:
    spec = RouteIn.model_validate(body.model_dump(exclude={"key"}))
    return RouteRead.of(service.create_route(session, body.key, spec))


@router.get("", dependencies=[READ])
def list_routes(session: SessionDep) -> list[RouteRead]:
    return [RouteRead.of(row) for row in service.list_routes(session)]


@router.get("/{key}", responses=errors(NOT_FOUND), dependencies=[READ])
def get_route(key: str, session: SessionDep) -> RouteRead:
    return RouteRead.of(service.get_route(session, key))


@router.put("/{key}", responses=errors(NOT_FOUND, INVALID_CONFIG), dependencies=[ADMIN])
def update_route(key: str, body: RouteUpdate, session: SessionDep) -> RouteRead:
    return RouteRead.of(service.update_route(session, key, body))


@router.delete(
    "/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(NOT_FOUND),
    dependencies=[ADMIN],
)
def delete_route(key: str, session: SessionDep) -> Response:
    service.delete_route(session, key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
