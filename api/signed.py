"""Signed claims keyed by an API token: what stream tokens and session cookies are made of.

`<prefix><body>.<mac>`: the body is the claims as base64url JSON, the MAC HMAC-SHA256 over a
context string (one per kind, so one kind never passes for another) and the body, keyed by the
SHA-256 of the token that issued it. The store keeps that hash and a revocation removes it
from use, so revoking the token ends what it signed, and replicas need no shared secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

MAX_CHARS = 2048


@dataclass(frozen=True)
class Kind:
    """One kind of signed claims: its visible prefix and the context its MAC covers."""

    prefix: str
    context: bytes


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(kind: Kind, key: bytes, body: str) -> bytes:
    return hmac.new(key, kind.context + body.encode(), hashlib.sha256).digest()


def seal(kind: Kind, payload: dict[str, Any], key: bytes) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{kind.prefix}{body}.{_b64(_mac(kind, key, body))}"


@dataclass(frozen=True)
class Opened:
    """A well-formed value's claims, not yet verified: check `signed_by` with the issuer's key."""

    kind: Kind
    payload: dict[str, Any]
    body: str
    mac: bytes

    def signed_by(self, key: bytes) -> bool:
        return hmac.compare_digest(_mac(self.kind, key, self.body), self.mac)


def open_claims(kind: Kind, value: str) -> Opened | None:
    """The claims of a well-formed `value` of `kind` (the MAC not yet checked), else None."""
    if not value.startswith(kind.prefix) or value.count(".") != 1 or len(value) > MAX_CHARS:
        return None
    body, mac = value[len(kind.prefix) :].split(".")
    try:
        payload = json.loads(_unb64(body))
        raw_mac = _unb64(mac)
    except (ValueError, binascii.Error):
        return None
    if not isinstance(payload, dict):
        return None
    return Opened(kind, payload, body, raw_mac)
