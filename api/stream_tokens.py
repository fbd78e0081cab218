"""Stream tokens: what a browser's EventSource (which cannot send headers) puts in the URL.

`POST /v1/runs/{id}/stream-token` (scope read) returns `st_<claims>.<mac>` (api/signed.py): the
claims name one run, the token that asked for it and an expiry (STREAM_TOKEN_TTL_S); the MAC is
HMAC-SHA256 keyed by that token's SHA-256. It opens `GET /v1/runs/{id}/events?token=...` of that
run only, until it expires or the token that issued it is revoked (its key is then gone). It is
read-only and opens nothing else: a bearer token never goes into a URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from api.signed import Kind, Opened, open_claims, seal

PREFIX = "st_"
KIND = Kind(PREFIX, b"orch stream token v1\n")


@dataclass(frozen=True)
class StreamClaims:
    run_id: str
    token_id: str  # the token that issued it
    expires_at: int  # unix seconds


def sign(claims: StreamClaims, key: bytes) -> str:
    payload = {"run": claims.run_id, "tok": claims.token_id, "exp": claims.expires_at}
    return seal(KIND, payload, key)


def _claims(opened: Opened) -> StreamClaims | None:
    payload = opened.payload
    try:
        return StreamClaims(
            run_id=str(payload["run"]), token_id=str(payload["tok"]), expires_at=int(payload["exp"])
        )
    except (ValueError, KeyError, TypeError):
        return None


def read_claims(token: str) -> tuple[StreamClaims, str, bytes] | None:
    """The claims, signed body and MAC of a well-formed stream token (not yet verified)."""
    opened = open_claims(KIND, token)
    claims = _claims(opened) if opened is not None else None
    if opened is None or claims is None:
        return None
    return claims, opened.body, opened.mac


def verify(
    token: str, run_id: str, now: float, key_of: Callable[[str], bytes | None]
) -> StreamClaims | None:
    """The claims of `token` if it is signed by a valid token, unexpired, and for `run_id`."""
    opened = open_claims(KIND, token)
    claims = _claims(opened) if opened is not None else None
    if opened is None or claims is None:
        return None
    if claims.run_id != run_id or claims.expires_at <= now:
        return None
    key = key_of(claims.token_id)
    if key is None or not opened.signed_by(key):
        return None
    return claims
