"""Session cookies: what the web app signs in with instead of keeping a token in the page.

`POST /v1/session` trades a token for `orch_session=ss_<claims>.<mac>` (api/signed.py): the
claims name the token and an expiry (SESSION_TTL_S), the MAC is keyed by that token's SHA-256,
so the cookie never holds the token, revoking the token ends its sessions, and every replica
verifies it with what the store already has. The cookie is HttpOnly (no script reads it) and
SameSite=Strict (no other site's page sends it); a state-changing request it authenticates must
also carry `X-Requested-With: orch-web` (api/auth.py), which a form or a plain link cannot set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from api.signed import Kind, Opened, open_claims, seal

COOKIE = "orch_session"
KIND = Kind("ss_", b"orch session cookie v1\n")
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "orch-web"


@dataclass(frozen=True)
class SessionClaims:
    token_id: str  # the token the session was signed in with
    expires_at: int  # unix seconds


def sign(claims: SessionClaims, key: bytes) -> str:
    return seal(KIND, {"tok": claims.token_id, "exp": claims.expires_at}, key)


def _claims(opened: Opened) -> SessionClaims | None:
    try:
        return SessionClaims(
            token_id=str(opened.payload["tok"]), expires_at=int(opened.payload["exp"])
        )
    except (ValueError, KeyError, TypeError):
        return None


class Signer(Protocol):
    @property
    def signing_key(self) -> bytes: ...


S = TypeVar("S", bound=Signer)


def verify(cookie: str, now: float, signer_of: Callable[[str], S | None]) -> S | None:
    """The signer (the token, as `signer_of` finds it by id) of `cookie`, if it is valid,
    signed by that token and unexpired."""
    opened = open_claims(KIND, cookie)
    claims = _claims(opened) if opened is not None else None
    if opened is None or claims is None or claims.expires_at <= now:
        return None
    signer = signer_of(claims.token_id)
    if signer is None or not opened.signed_by(signer.signing_key):
        return None
    return signer
