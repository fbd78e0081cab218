"""Who may call what: bearer tokens with a scope, checked by one dependency per route.

Scopes nest: `read` (GET configuration, runs, events) < `run` (start, cancel, approve, answer)
< `admin` (configuration writes, MCP servers, tokens). A route declares the scope it needs with
`dependencies=[READ]`, `[RUN]` or `[ADMIN]`; FastAPI writes it into the OpenAPI document as the
`bearer` security requirement of the operation (its list of scopes).

A token is accepted when it is `ORCH_ADMIN_TOKEN` (admin; compared in constant time, never
stored) or an unrevoked row of `api_tokens` (config_store/tokens.py). Wherever a bearer token
is accepted, so is the session cookie the web app signs in with (api/session_cookies.py), with
the scope of the token it was signed in with; with it, a state-changing request must also send
`X-Requested-With: orch-web`. `API_AUTH=off` accepts every request as admin, and is only allowed
while the API binds a loopback address.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import (
    APIKeyCookie,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBearer,
    SecurityScopes,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from activities.tools.addresses import allow_key
from api import session_cookies
from api.guards import STATE_CHANGING
from api.session_cookies import COOKIE, CSRF_HEADER, CSRF_VALUE
from api.stream_tokens import verify
from config_store.tokens import (
    find_active,
    find_unrevoked,
    list_tokens,
    mark_used,
    token_sha256,
)
from core.errors import CsrfHeaderMissing, Forbidden, OrchError, Unauthorized
from core.settings import Settings
from workflows.kinds import TOKEN_SCOPES, TokenScope

log = logging.getLogger(__name__)
LOOPBACK_BINDS = frozenset({"127.0.0.1", "::1", "localhost"})
ENV_TOKEN_ID = "env"  # the id ORCH_ADMIN_TOKEN goes by (it has no row)
MIN_ADMIN_TOKEN_CHARS = 32

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token, `Authorization: Bearer orch_<id>_<secret>`. Each operation "
    "names the scope it needs: read < run < admin (a scope includes the ones before it).",
)

stream_key = APIKeyQuery(
    name="token",
    auto_error=False,
    scheme_name="stream_token",
    description="A stream token from `POST /v1/runs/{run_id}/stream-token`, for an "
    "EventSource (which cannot send headers): opens that run's events only, for "
    "STREAM_TOKEN_TTL_S seconds.",
)


session_cookie = APIKeyCookie(
    name=COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The web app's session, from `POST /v1/session`: accepted wherever a bearer "
    "token is, with that token's scope. A state-changing request it authenticates must also "
    f"send `{CSRF_HEADER}: {CSRF_VALUE}`.",
)
SIGN_IN = "send an API token (`Authorization: Bearer <token>`) or sign in (POST /v1/session)"


@dataclass(frozen=True)
class Principal:
    """The token a request came with."""

    token_id: str  # the token's public id, "env" for ORCH_ADMIN_TOKEN, "" with auth off
    scope: TokenScope
    # Keys the run-bound stream tokens it issues (api/stream_tokens.py): the token's SHA-256,
    # which the store keeps and a revocation removes from use.
    signing_key: bytes


class RedactQueryTokens(logging.Filter):
    """Hides `token=` query values (stream tokens) in uvicorn's access log lines."""

    _pattern = re.compile(r"([?&]token=)[^&\s]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self._pattern.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


ACCESS_LOG_FILTER = RedactQueryTokens()


def check_auth_settings(settings: Settings) -> None:
    """Refuse to start with an unsafe combination (called by create_app)."""
    if settings.api_auth == "off" and allow_key(settings.api_host) not in LOOPBACK_BINDS:
        raise OrchError(
            f"API_AUTH=off serves loopback only, and API_HOST is {settings.api_host!r}: "
            "turn auth on, or bind 127.0.0.1",
            code="auth_off_not_loopback",
        )
    token = settings.orch_admin_token
    if token is not None and len(token) < MIN_ADMIN_TOKEN_CHARS:
        raise OrchError(
            f"ORCH_ADMIN_TOKEN has {len(token)} characters; use at least "
            f"{MIN_ADMIN_TOKEN_CHARS} random ones (e.g. `openssl rand -hex 32`)",
            code="weak_admin_token",
        )


def warn_if_locked_out(settings: Settings, factory: sessionmaker[Session]) -> None:
    """Say so at start when auth is on and no token could get in."""
    if settings.api_auth == "off" or settings.orch_admin_token:
        return
    try:
        with factory() as session:
            tokens = list_tokens(session)
    except SQLAlchemyError as err:  # an unmigrated database: the routes will say so
        log.warning("cannot check for API tokens: %s", type(err).__name__)
        return
    if not any(row.revoked_at is None for row in tokens):
        log.warning(
            "auth is on and no token exists: set ORCH_ADMIN_TOKEN, or make one with "
            "`orch token create NAME --scope admin` (same DATABASE_URL)"
        )


def rank(scope: TokenScope) -> int:
    return TOKEN_SCOPES.index(scope)


def env_principal(settings: Settings, token: str) -> Principal | None:
    expected = settings.orch_admin_token
    if expected is None or not hmac.compare_digest(expected.encode(), token.encode()):
        return None
    return Principal(ENV_TOKEN_ID, "admin", bytes.fromhex(token_sha256(token)))


def stored_principal(factory: sessionmaker[Session], token: str) -> Principal | None:
    with factory() as session:
        row = find_active(session, token)
        if row is None:
            return None
        if mark_used(session, row):
            session.commit()
        return Principal(row.id, row.scope, bytes.fromhex(row.token_sha256))


async def checked_principal(request: Request, token: str, needed: list[str]) -> Principal:
    """The principal of `token` if it is valid and reaches every scope of `needed`. Only a
    stored token costs a lookup (one primary-key read), run in the thread pool so that it does
    not hold the event loop; ORCH_ADMIN_TOKEN costs none."""
    settings: Settings = request.app.state.settings
    principal = env_principal(settings, token) or await run_in_threadpool(
        stored_principal, request.app.state.session_factory, token
    )
    if principal is None:
        raise Unauthorized("the token is unknown or revoked")
    require_scope(principal, needed)
    return principal


async def session_principal(request: Request, cookie: str, needed: list[str]) -> Principal:
    """The principal of a session cookie (the token it was signed in with), if the cookie is
    valid, the request may use it (the CSRF header on a state-changing one) and its scope
    reaches `needed`."""
    principal = await run_in_threadpool(
        session_cookies.verify, cookie, time.time(), lambda token: principal_of(request, token)
    )
    if principal is None:
        raise Unauthorized(
            "the session has expired, was tampered with, or its token was revoked: sign in again"
        )
    if request.method.upper() in STATE_CHANGING and (
        request.headers.get(CSRF_HEADER) != CSRF_VALUE
    ):
        raise CsrfHeaderMissing(
            f"a request signed in by the session cookie that changes anything must send the "
            f"header `{CSRF_HEADER}: {CSRF_VALUE}`"
        )
    require_scope(principal, needed)
    return principal


async def authenticate(
    request: Request,
    security_scopes: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal:
    """The request's principal, if its token (or the session it signed in) reaches the scope
    the route declares. A bearer token wins over a session cookie."""
    settings: Settings = request.app.state.settings
    if settings.api_auth == "off":
        return Principal("", "admin", b"")
    if credentials is not None:
        return await checked_principal(request, credentials.credentials, security_scopes.scopes)
    if cookie is not None:
        return await session_principal(request, cookie, security_scopes.scopes)
    raise Unauthorized(SIGN_IN)


def require_scope(principal: Principal, needed: list[str]) -> None:
    """Forbidden unless the principal's scope reaches each of `needed` (the route's)."""
    for scope in needed:
        if rank(principal.scope) < TOKEN_SCOPES.index(scope):
            raise Forbidden(
                f"this needs a token of scope {scope!r} (or above); this one is {principal.scope!r}"
            )


def principal_of(request: Request, token_id: str) -> Principal | None:
    """The token `token_id` while it is valid (for what it signed: stream tokens, sessions)."""
    settings: Settings = request.app.state.settings
    if token_id == ENV_TOKEN_ID:
        token = settings.orch_admin_token
        return env_principal(settings, token) if token else None
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        row = find_unrevoked(session, token_id)
        return Principal(row.id, row.scope, bytes.fromhex(row.token_sha256)) if row else None


def key_of(request: Request, token_id: str) -> bytes | None:
    """The signing key of the token `token_id` while it is valid (for stream tokens)."""
    principal = principal_of(request, token_id)
    return principal.signing_key if principal is not None else None


async def authenticate_stream(
    run_id: str,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer, scopes=["read"])],
    token: Annotated[str | None, Security(stream_key)],
    cookie: Annotated[str | None, Security(session_cookie, scopes=["read"])],
) -> None:
    """A read token in the header, a session cookie (an EventSource sends cookies), or a
    stream token of this run in `?token=`."""
    settings: Settings = request.app.state.settings
    if settings.api_auth == "off":
        return
    if credentials is not None:
        await checked_principal(request, credentials.credentials, ["read"])
        return
    if token is None and cookie is not None:
        await session_principal(request, cookie, ["read"])
        return
    if token is None:
        raise Unauthorized(
            "send an API token (`Authorization: Bearer <token>`), sign in (POST /v1/session) "
            "or send a stream token of this run (`?token=`, from POST "
            "/v1/runs/{run_id}/stream-token)"
        )
    claims = await run_in_threadpool(
        verify, token, run_id, time.time(), lambda token_id: key_of(request, token_id)
    )
    if claims is None:
        raise Unauthorized("the stream token is not valid for this run, or has expired")


READ = Security(authenticate, scopes=["read"])
RUN = Security(authenticate, scopes=["run"])
ADMIN = Security(authenticate, scopes=["admin"])

ReaderDep = Annotated[Principal, READ]
