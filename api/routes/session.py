"""Signing the web app in and out: /v1/session trades a token for a session cookie."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import checked_principal
from api.openapi import UNAUTHORIZED, errors
from api.session_cookies import COOKIE, SessionClaims, sign
from core.settings import Settings
from workflows.kinds import TokenScope

router = APIRouter(prefix="/v1/session", tags=["session"])

SET_COOKIE = {
    "Set-Cookie": {
        "description": f"`{COOKIE}=...; HttpOnly; SameSite=Strict; Path=/; Max-Age=...` "
        "(and `Secure` over https).",
        "schema": {"type": "string"},
    }
}


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=512, description="An API token.")


class SessionRead(BaseModel):
    token_id: str = Field(description="The public id of the token signed in with.")
    scope: TokenScope
    expires_at: datetime = Field(description="When the session ends (SESSION_TTL_S).")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.post(
    "",
    responses={
        **errors(UNAUTHORIZED),
        200: {"description": "Signed in.", "headers": SET_COOKIE},
    },
)
async def sign_in(body: SignIn, request: Request, response: Response) -> SessionRead:
    """Sign in with a token: sets the `orch_session` cookie, which holds the token's id and an
    expiry signed with the token's hash (never the token). Revoking the token ends it. With
    API_AUTH=off it sets no cookie (every request is admin)."""
    settings: Settings = request.app.state.settings
    expires_at = int(time.time()) + settings.session_ttl_s
    until = datetime.fromtimestamp(expires_at, UTC)
    if settings.api_auth == "off":  # every request is admin: there is nothing to sign in to
        return SessionRead(token_id="", scope="admin", expires_at=until)
    principal = await checked_principal(request, body.token, [])
    response.set_cookie(
        COOKIE,
        sign(SessionClaims(principal.token_id, expires_at), principal.signing_key),
        max_age=settings.session_ttl_s,
        path="/",
        secure=_secure(request),
        httponly=True,
        samesite="strict",
    )
    return SessionRead(
        token_id=principal.token_id,
        scope=principal.scope,
        expires_at=until,
    )


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={204: {"description": "Signed out.", "headers": SET_COOKIE}},
)
def sign_out(request: Request) -> Response:
    """Sign out: clears the session cookie (the token stays valid)."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        COOKIE, path="/", secure=_secure(request), httponly=True, samesite="strict"
    )
    return response
