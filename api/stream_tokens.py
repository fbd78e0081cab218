"""Stream tokens: what a browser's EventSource (which cannot send headers) puts in the URL.

`POST /v1/runs/{id}/stream-token` (scope read) returns `st_<claims>.<mac>`: the claims name one
run, the token that asked for it and an expiry (STREAM_TOKEN_TTL_S); the MAC is HMAC-SHA256
keyed by that token's SHA-256. It opens `GET /v1/runs/{id}/events?token=...` of that run only,
until it expires or the token that issued it is revoked (its key is then gone). It is read-only
and opens nothing else: a bearer token never goes into a URL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

PREFIX = "st_"
_CONTEXT = b"orch stream token v1\n"


@dataclass(frozen=True)
class StreamClaims:
    run_id: str
    token_id: str  # the token that issued it
    expires_at: int  # unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> bytes:
    return hmac.new(key, _CONTEXT + body.encode(), hashlib.sha256).digest()


def sign(claims: StreamClaims, key: bytes) -> str:
    payload = {"run": claims.run_id, "tok": claims.token_id, "exp": claims.expires_at}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{PREFIX}{body}.{_b64(_mac(key, body))}"


def read_claims(token: str) -> tuple[StreamClaims, str, bytes] | None:
    """The claims, signed body and MAC of a well-formed stream token (not yet verified)."""
    if not token.startswith(PREFIX) or token.count(".") != 1 or len(token) > 2048:
        return None
    body, mac = token[len(PREFIX) :].split(".")
    try:
        payload = json.loads(_unb64(body))
        claims = StreamClaims(
            run_id=str(payload["run"]), token_id=str(payload["tok"]), expires_at=int(payload["exp"])
        )
        return claims, body, _unb64(mac)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


def verify(
    token: str, run_id: str, now: float, key_of: Callable[[str], bytes | None]
) -> StreamClaims | None:
    """The claims of `token` if it is signed by a valid token, unexpired, and for `run_id`."""
    read = read_claims(token)
    if read is None:
        return None
    claims, body, mac = read
    if claims.run_id != run_id or claims.expires_at <= now:
        return None
    key = key_of(claims.token_id)
    if key is None or not hmac.compare_digest(_mac(key, body), mac):
        return None
    return claims
