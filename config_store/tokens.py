"""API tokens: made, listed, revoked, and looked up when a request presents one.

A token reads `orch_<id>_<secret>`: `id` (10 hex digits) is public and names the token in lists,
logs and `revoke`; `secret` is 32 random bytes. Only the SHA-256 of the whole token is stored: a
token carries 256 bits of randomness, so a fast hash is enough (there is nothing to guess). The
plain token is returned once, by `create_token`, and never kept.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from config_store.models import ApiToken, utcnow
from config_store.validation import check_name
from core.errors import NotFound
from workflows.kinds import TokenScope

PREFIX = "orch_"
# last_used_at is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class NewToken:
    row: ApiToken
    token: str  # the only time the plain token exists outside the caller's hands


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(token: str) -> str | None:
    """The public id of a well-formed token, else None."""
    if not token.startswith(PREFIX):
        return None
    public, sep, secret = token[len(PREFIX) :].partition("_")
    if not sep or len(public) != 10 or not secret:
        return None
    return public


def create_token(session: Session, name: str, scope: TokenScope) -> NewToken:
    check_name(name)
    public = secrets.token_hex(5)
    token = f"{PREFIX}{public}_{secrets.token_urlsafe(32)}"
    row = ApiToken(id=public, name=name, scope=scope, token_sha256=token_sha256(token))
    session.add(row)
    session.flush()
    return NewToken(row=row, token=token)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def get_token(session: Session, public: str) -> ApiToken:
    row = session.get(ApiToken, public)
    if row is None:
        raise NotFound(f"no token {public!r}")
    return row


def revoke_token(session: Session, public: str) -> ApiToken:
    """Revoke a token (again: no change). Its row stays, with when it was revoked."""
    row = get_token(session, public)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def find_unrevoked(session: Session, public: str) -> ApiToken | None:
    row = session.get(ApiToken, public)
    return row if row is not None and row.revoked_at is None else None


def find_active(session: Session, token: str) -> ApiToken | None:
    """The unrevoked token whose secret is `token`, compared in constant time."""
    public = token_id(token)
    row = find_unrevoked(session, public) if public is not None else None
    if row is None:
        return None
    if not hmac.compare_digest(row.token_sha256, token_sha256(token)):
        return None
    return row


def mark_used(session: Session, row: ApiToken, now: datetime | None = None) -> bool:
    """Record a use, at most once per LAST_USED_EVERY; True when it wrote."""
    now = now or utcnow()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_EVERY:
        return False
    session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    return True
