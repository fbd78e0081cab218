"""Browser safety: a web page the operator opens must not be able to use the API.

`BrowserGuard` is plain ASGI, outside every route (and outside CORS), and checks, in order:

1. the `Host` header (port ignored) is an allowed host, else 400 `bad_host`: a DNS-rebinding
   page reaches a loopback API under its own name, and is refused here;
2. a state-changing request (POST, PUT, PATCH, DELETE) that carries an `Origin` header comes from
   an allowed origin, else 403 `forbidden_origin`;
3. a state-changing request with a body, or with any `Content-Type`, is `application/json`, else
   415 `unsupported_media_type`: an HTML form can only send `application/x-www-form-urlencoded`,
   `multipart/form-data` or `text/plain`, and a browser sends JSON cross-site only after a CORS
   preflight, which the API answers only for `CORS_ORIGINS`.

CORS itself (Starlette's `CORSMiddleware`) is installed only when `CORS_ORIGINS` lists origins.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from activities.tools.addresses import allow_key
from api.errors import error_response
from core.settings import Settings

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"
# What a cross-origin caller listed in CORS_ORIGINS may send (a preflight asks for these).
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_HEADERS = ["Authorization", "Content-Type", "Last-Event-ID"]


def host_of_header(value: str) -> str:
    """The host of a `Host` header, without its port: `[::1]:8000` -> `::1`."""
    value = value.strip()
    if value.startswith("["):
        end = value.find("]")
        return allow_key(value[: end + 1]) if end > 0 else ""
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return allow_key(value)


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_origin(value: str) -> tuple[str, str] | None:
    """(scheme, host) of an http(s) origin, or None for anything else (`null`, a path...)."""
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return None
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        return None
    return parts.scheme, allow_key(parts.hostname)


def normalise_origin(value: str) -> str:
    """A CORS_ORIGINS entry as browsers send it: `https://App.example/` -> `https://app.example`."""
    value = value.strip()
    if value == "*":
        raise ValueError(
            "CORS_ORIGINS: `*` is not allowed; list the origins (scheme://host[:port])"
        )
    if parse_origin(value) is None:
        raise ValueError(f"CORS_ORIGINS: {value!r} is not an origin (scheme://host[:port])")
    return value.rstrip("/").lower()


@dataclass(frozen=True)
class BrowserPolicy:
    """What the guard allows, from the settings."""

    # loopback names, a specific API_HOST, PUBLIC_URL's host, ALLOWED_HOSTS (minus `*`)
    hosts: frozenset[str]
    any_host: bool  # ALLOWED_HOSTS has `*`
    cors_origins: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> BrowserPolicy:
        hosts = set(LOOPBACK_HOSTS)
        # A specific bind address is how clients reach the API (`orch up` prints it).
        if allow_key(settings.api_host) not in WILDCARD_BINDS:
            hosts.add(allow_key(settings.api_host))
        if settings.public_url:
            public = urlsplit(settings.public_url).hostname
            if public:
                hosts.add(allow_key(public))
        extra = _csv(settings.allowed_hosts)
        hosts.update(allow_key(host) for host in extra if host != "*")
        origins = tuple(dict.fromkeys(normalise_origin(o) for o in _csv(settings.cors_origins)))
        return cls(hosts=frozenset(hosts), any_host="*" in extra, cors_origins=origins)

    def host_allowed(self, host: str) -> bool:
        return bool(host) and (self.any_host or host in self.hosts)

    def origin_allowed(self, origin: str, request_host: str) -> bool:
        """An origin of the API's own host, of any allowed host or loopback name (any scheme
        or port), or one of CORS_ORIGINS."""
        parsed = parse_origin(origin)
        if parsed is None:
            return False
        _, host = parsed
        return (
            host in self.hosts
            or host == request_host
            or origin.strip().rstrip("/").lower() in self.cors_origins
        )


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers, lower-cased names; a repeated one keeps its first value."""
    found: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        found.setdefault(raw_name.decode("latin-1").lower(), raw_value.decode("latin-1"))
    return found


def _has_body(headers: dict[str, str]) -> bool:
    if "transfer-encoding" in headers:
        return True
    length = headers.get("content-length", "").strip()
    return bool(length) and length != "0"


class BrowserGuard:
    """Pure ASGI middleware: Host, Origin and Content-Type checks (see the module docstring)."""

    def __init__(self, app: ASGIApp, policy: BrowserPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        host = host_of_header(headers.get("host", ""))
        if not self.policy.host_allowed(host):
            shown = headers.get("host", "")
            detail = (
                f"Host {shown!r} is not served here; add it to ALLOWED_HOSTS"
                if shown
                else "the request has no Host header"
            )
            await error_response(400, "bad_host", detail)(scope, receive, send)
            return
        if scope["method"].upper() in STATE_CHANGING:
            origin = headers.get("origin")
            if origin is not None and not self.policy.origin_allowed(origin, host):
                detail = (
                    f"Origin {origin!r} may not change anything here; "
                    "allowed: the API's own host, the loopback names and CORS_ORIGINS"
                )
                await error_response(403, "forbidden_origin", detail)(scope, receive, send)
                return
            content_type = headers.get("content-type")
            media_type = (content_type or "").split(";", 1)[0].strip().lower()
            if (content_type is not None or _has_body(headers)) and media_type != JSON:
                got = f"{content_type!r}" if content_type is not None else "no Content-Type"
                detail = f"expected Content-Type {JSON}, got {got}"
                await error_response(415, "unsupported_media_type", detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_browser_guards(app: FastAPI, settings: Settings) -> None:
    """CORS (only with CORS_ORIGINS), then the guard outside it: every request, preflights
    included, has its Host checked first."""
    policy = BrowserPolicy.from_settings(settings)
    if policy.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(policy.cors_origins),
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            allow_credentials=False,
        )
    app.add_middleware(BrowserGuard, policy=policy)
