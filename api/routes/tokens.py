"""API tokens: /v1/tokens (admin) and /v1/whoami (any token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ADMIN, READ, Principal
from api.deps import SessionDep
from api.openapi import NOT_FOUND, errors
from config_store import tokens as service
from config_store.models import ApiToken
from config_store.validation import NAME_PATTERN
from workflows.kinds import TokenScope

router = APIRouter(tags=["tokens"])


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="what the token is for, e.g. `ci`")
    scope: TokenScope = Field(description="read < run < admin; each includes the ones before")


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="the token's public part; names it in lists and revocation")
    name: str
    scope: TokenScope
    created_at: datetime
    last_used_at: datetime | None = Field(description="to the minute; null: never used")
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> TokenRead:
        return cls.model_validate(row)


class TokenCreated(TokenRead):
    token: str = Field(description="the token itself: shown this once, never again")


class WhoAmI(BaseModel):
    token_id: str = Field(description='the token\'s id; "env" for ORCH_ADMIN_TOKEN')
    scope: TokenScope


@router.post("/v1/tokens", status_code=status.HTTP_201_CREATED, dependencies=[ADMIN])
def create_token(body: TokenCreate, session: SessionDep) -> TokenCreated:
    """Make a token. The response is the only time its secret is shown."""
    made = service.create_token(session, body.name, body.scope)
    return TokenCreated(**TokenRead.of(made.row).model_dump(), token=made.token)


@router.get("/v1/tokens", dependencies=[ADMIN])
def list_tokens(session: SessionDep) -> list[TokenRead]:
    """Every token made here, revoked ones included (without their secrets)."""
    return [TokenRead.of(row) for row in service.list_tokens(session)]


@router.delete(
    "/v1/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(NOT_FOUND),
    dependencies=[ADMIN],
)
def revoke_token(token_id: str, session: SessionDep) -> Response:
    """Revoke a token: from now on it is refused (401), and so are the stream tokens it issued."""
    service.revoke_token(session, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/whoami")
def whoami(principal: Annotated[Principal, READ]) -> WhoAmI:
    """The token this request came with, and its scope."""
    return WhoAmI(token_id=principal.token_id, scope=principal.scope)
