"""CRUD on providers: /v1/providers."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import ADMIN, READ
from api.deps import SessionDep
from api.openapi import CONFLICT, INVALID_CONFIG, NOT_FOUND, errors
from api.schemas import ProviderCreate, ProviderRead, ProviderUpdate
from config_store import providers as service
from config_store.specs import ProviderIn

router = APIRouter(prefix="/v1/providers", tags=["providers"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=errors(CONFLICT, INVALID_CONFIG),
    dependencies=[ADMIN],
)
def create_provider(body: ProviderCreate, session: SessionDep) -> ProviderRead:
    spec = ProviderIn.model_validate(body.model_dump(exclude={"name"}))
    return ProviderRead.of(service.create_provider(session, body.name, spec))


@router.get("", dependencies=[READ])
def list_providers(session: SessionDep) -> list[ProviderRead]:
    return [ProviderRead.of(row) for row in service.list_providers(session)]


@router.get("/{name}", responses=errors(NOT_FOUND), dependencies=[READ])
def get_provider(name: str, session: SessionDep) -> ProviderRead:
    return ProviderRead.of(service.get_provider(session, name))


@router.put("/{name}", responses=errors(NOT_FOUND, INVALID_CONFIG), dependencies=[ADMIN])
def update_provider(name: str, body: ProviderUpdate, session: SessionDep) -> ProviderRead:
    return ProviderRead.of(service.update_provider(session, name, body))


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(NOT_FOUND, CONFLICT),
    dependencies=[ADMIN],
)
def delete_provider(name: str, session: SessionDep) -> Response:
    service.delete_provider(session, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
