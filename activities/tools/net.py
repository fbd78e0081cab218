"""The one way a tool talks HTTP: a guard against reaching what the worker can reach but the
model must not (SSRF).

A model chooses URLs, and a worker usually sits inside a network: next to a database, a cloud
metadata endpoint that hands out credentials, an admin port on loopback. So every request is
checked *after* DNS resolution (a public-looking name may point inside), and the connection goes to
the very address that was checked (no second lookup an attacker's DNS could answer differently).
The original name still travels in the `Host` header and, for https, as the TLS server name, so
virtual hosting and certificate verification work as usual. Redirects are followed here, one hop
at a time, each hop checked the same way. Body size and total time are capped.

Errors: `BlockedDestination` and other ToolErrors go to the model as the tool's result;
`UpstreamUnavailable` (429, 5xx, connection failure, timeout) is raised for Temporal to retry.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import ipaddress
import json
import socket
import ssl
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from activities.tools.addresses import (
    LOOPBACK,
    Address,
    BlockedDestination,
    allow_key,
    check_addresses,
    literal_address,
    normal_host,
    refusal,
)
from activities.tools.base import Resolver, ToolContext, ToolError
from core.tracing import tracer_provider

if TYPE_CHECKING:  # imported when tracing is on only
    from opentelemetry.instrumentation.httpx import RequestInfo
    from opentelemetry.trace import Span

__all__ = [
    "BlockedDestination",
    "HttpResult",
    "UpstreamUnavailable",
    "check_status",
    "checked_destination",
    "fetch",
    "idempotency_key",
    "normal_host",
    "refusal",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers that carry credentials: never sent on to another origin by a redirect.
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# Framing and routing headers are ours to set: a caller's value could desynchronise the exchange
# or name another virtual host than the checked one.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)
BODY_HEADERS = ("content-type", "content-length", "content-encoding")
EXCERPT_CHARS = 300


class UpstreamUnavailable(Exception):
    """The other side is unavailable for now (429, 5xx, connection failure, timeout): Temporal
    retries the tool call; after the last attempt the model is told. `retry_after_s` is the
    server's Retry-After in seconds, when it sent one. `maybe_applied` is False when the
    service cannot have acted on the request (no connection was made, the host did not resolve,
    it answered 429): a non-idempotent tool is retried only then (activities/tools/activity.py)."""

    def __init__(
        self, message: str, retry_after_s: float | None = None, *, maybe_applied: bool = True
    ) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.maybe_applied = maybe_applied


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    truncated: bool  # the body was cut at the size cap
    url: str  # the final URL, after redirects (with the host name, not the address)

    def text(self) -> str:
        """The body decoded with the content-type's charset (else utf-8), bad bytes replaced."""
        return self.body.decode(_charset(self.headers.get("content-type", "")), errors="replace")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
            cut = f" (cut at {len(self.body)} bytes)" if self.truncated else ""
            raise ToolError(f"the response from {self.url} is not valid JSON{cut}") from err


def _charset(content_type: str) -> str:
    message = Message()
    message["content-type"] = content_type
    charset = message.get_content_charset() or "utf-8"
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"


def _retry_after(value: str) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def idempotency_key(run_id: str, call_id: str) -> str:
    """The same for every attempt of one tool call, different across calls and runs, and not
    revealing the ids: what HTTP tools send as `Idempotency-Key`."""
    digest = hashlib.sha256(json.dumps([run_id, call_id]).encode()).hexdigest()
    return f"orch-{digest[:32]}"


def check_status(result: HttpResult, what: str) -> None:
    """Nothing for 1xx-3xx; UpstreamUnavailable for 429 and 5xx (worth retrying); a ToolError for
    other 4xx, naming the status and the start of the body so the model can correct itself."""
    status = result.status
    if status < 400:
        return
    if status == 429 or status >= 500:
        wait = _retry_after(result.headers.get("retry-after", ""))
        raise UpstreamUnavailable(
            f"{what} answered {status}", retry_after_s=wait, maybe_applied=status != 429
        )
    excerpt = " ".join(result.text().split())[:EXCERPT_CHARS]
    raise ToolError(
        f"{what} answered {status}: {excerpt}" if excerpt else f"{what} answered {status}"
    )


async def fetch(
    ctx: ToolContext,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    max_bytes: int | None = None,
    timeout_s: float | None = None,
    follow_redirects: bool = True,
    sensitive_headers: Collection[str] = (),
) -> HttpResult:
    """One guarded HTTP exchange (see the module docstring). `sensitive_headers` names headers,
    besides Authorization, Cookie and Proxy-Authorization, to drop when a redirect leaves the
    origin (an API key header)."""
    if json_body is not None and content is not None:
        raise ValueError("fetch takes json_body or content, not both")
    policy = ctx.outbound
    cap = (
        policy.max_response_bytes
        if max_bytes is None
        else min(max_bytes, policy.max_response_bytes)
    )
    limit = policy.timeout_s if timeout_s is None else min(timeout_s, policy.timeout_s)
    request_headers = httpx.Headers(
        {k: v for k, v in (headers or {}).items() if k.lower() not in RESERVED_HEADERS}
    )
    body = content
    if json_body is not None:
        body = json.dumps(json_body, separators=(",", ":")).encode()
        request_headers.setdefault("content-type", "application/json")
    # Compressed bodies could expand far past the cap inside one chunk: ask for them plain.
    request_headers.setdefault("accept-encoding", "identity")
    try:
        current = httpx.URL(url)
        if params:
            current = current.copy_merge_params(dict(params))
    except (httpx.InvalidURL, TypeError, ValueError) as err:
        raise ToolError(f"invalid URL {url!r}: {err}") from err
    exchange = _Exchange(ctx, method.upper(), request_headers, body, cap, limit)
    try:
        async with asyncio.timeout(limit):
            return await exchange.run(current, follow_redirects, sensitive_headers)
    except TimeoutError as err:
        raise UpstreamUnavailable(
            f"{exchange.host}: no complete answer within {limit:g} s"
        ) from err


class _Exchange:
    """The state of one `fetch`: the request as it changes along a redirect chain."""

    def __init__(
        self,
        ctx: ToolContext,
        method: str,
        headers: httpx.Headers,
        body: bytes | None,
        cap: int,
        limit: float,
    ) -> None:
        self.ctx = ctx
        self.method = method
        self.headers = headers
        self.body = body
        self.cap = cap
        self.limit = limit
        self.host = ""

    async def run(
        self, url: httpx.URL, follow_redirects: bool, sensitive_headers: Collection[str]
    ) -> HttpResult:
        dropped = CREDENTIAL_HEADERS | {name.lower() for name in sensitive_headers}
        for _hop in range(self.ctx.outbound.max_redirects + 1):
            addresses = await self._destination(url)
            result, location = await self._send(url, addresses, follow_redirects)
            if location is None:
                return result
            try:
                target = url.join(location)
            except httpx.InvalidURL as err:
                raise ToolError(f"{url.host} redirected to an invalid URL: {err}") from err
            self._after_redirect(result.status)
            if _origin(target) != _origin(url):
                for name in dropped:
                    self.headers.pop(name, None)
            url = target
        raise ToolError(f"more than {self.ctx.outbound.max_redirects} redirects, last to {url}")

    async def _destination(self, url: httpx.URL) -> list[Address]:
        """The checked addresses to connect to for `url`; BlockedDestination when refused."""
        if url.scheme not in ("http", "https"):
            raise BlockedDestination(f"refused: {url}: only http and https URLs are allowed")
        self.host = normal_host(url.host)
        port = url.port or (443 if url.scheme == "https" else 80)
        return await checked_destination(
            url.raw_host.decode("ascii"),
            port,
            self.ctx.outbound.allow_hosts,
            lambda host, port: _resolve(self.ctx, host, port),
        )

    async def _send(
        self, url: httpx.URL, addresses: list[Address], follow_redirects: bool
    ) -> tuple[HttpResult, str | None]:
        """One hop: the first of `addresses` that takes the connection (a name often has an
        IPv6 address the worker cannot reach), errors mapped to ToolError or UpstreamUnavailable."""
        try:
            for address in addresses[:-1]:
                try:
                    return await self._send_to(url, address, follow_redirects)
                except httpx.ConnectError as err:
                    if _caused_by(err, ssl.SSLError):
                        raise
            return await self._send_to(url, addresses[-1], follow_redirects)
        except httpx.DecodingError as err:
            raise ToolError(f"{self.host} sent a body that could not be decoded") from err
        except httpx.TransportError as err:
            if _caused_by(err, ssl.SSLCertVerificationError):
                raise ToolError(
                    f"the TLS certificate of {self.host} could not be verified"
                ) from err
            not_connected = isinstance(err, httpx.ConnectError | httpx.ConnectTimeout)
            raise UpstreamUnavailable(
                f"{self.host}: {type(err).__name__} {err}".rstrip(), maybe_applied=not not_connected
            ) from err

    async def _send_to(
        self, url: httpx.URL, address: Address, follow_redirects: bool
    ) -> tuple[HttpResult, str | None]:
        """One hop, connected to `address`: (result, redirect location or None)."""
        pinned = url.copy_with(host=str(address))
        headers = httpx.Headers(self.headers)
        headers["host"] = url.netloc.decode("ascii")
        extensions: dict[str, Any] = {}
        if url.scheme == "https" and literal_address(self.host) is None:
            extensions["sni_hostname"] = self.host  # TLS checks the certificate for the name
        # A client per hop: a pooled connection made for one name must not carry another's
        # request. trust_env=False: a proxy from the environment would undo the address check.
        async with _traced(httpx.AsyncClient(trust_env=False, timeout=self.limit)) as client:
            request = client.build_request(
                self.method, pinned, headers=headers, content=self.body, extensions=extensions
            )
            response = await client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if follow_redirects and response.status_code in REDIRECT_STATUSES and location:
                    return self._result(url, response, b"", False), location
                body, truncated = await self._read(response)
            finally:
                await response.aclose()
        return self._result(url, response, body, truncated), None

    async def _read(self, response: httpx.Response) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > self.cap:
                return b"".join(chunks)[: self.cap], True
        return b"".join(chunks), False

    @staticmethod
    def _result(url: httpx.URL, response: httpx.Response, body: bytes, cut: bool) -> HttpResult:
        headers: dict[str, str] = {}
        for name, value in response.headers.multi_items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return HttpResult(response.status_code, headers, body, cut, str(url))

    def _after_redirect(self, status: int) -> None:
        """303, and 301/302 after a POST, turn the next request into a GET without a body."""
        to_get = status == 303 and self.method != "HEAD"
        to_get = to_get or (status in (301, 302) and self.method == "POST")
        if to_get:
            self.method = "GET"
            self.body = None
            for name in BODY_HEADERS:
                self.headers.pop(name, None)


async def checked_destination(
    raw_host: str,
    port: int,
    allow_hosts: Collection[str],
    resolve: Callable[[str, int], Awaitable[list[Address]]],
) -> list[Address]:
    """The addresses to connect to for `raw_host` (a URL's host, IDNA-encoded), DNS-resolved
    with `resolve`; BlockedDestination when one is not public, unless `allow_hosts` names the
    host as written (see `allow_key`). Shared by `fetch` and the MCP HTTP transport."""
    host = normal_host(raw_host)
    if not host:
        raise ToolError("invalid URL: no host")
    allowed = allow_key(raw_host) in {allow_key(entry) for entry in allow_hosts}
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    elif host == "localhost" or host.endswith(".localhost"):
        addresses = [LOOPBACK]  # RFC 6761: whatever a resolver says, these mean loopback
    else:
        addresses = await resolve(host, port)
    if not allowed:
        check_addresses(host, addresses)
    return addresses


def _caused_by(err: BaseException, kind: type[BaseException]) -> bool:
    """Whether `kind` is in the chain of causes: httpx wraps httpcore, which wraps ssl, and
    httpcore's pool re-raises `from None`, which keeps the original only as the context."""
    seen: BaseException | None = err
    for _depth in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _traced(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """`client`, with a client span per request (and the W3C trace headers) while tracing is on
    (core/tracing.py)."""
    provider = tracer_provider()
    if provider is not None:
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor.instrument_client(
            client, tracer_provider=provider, request_hook=_url_without_query
        )
    return client


async def _url_without_query(span: Span, request: RequestInfo) -> None:
    """The span's URL without its query, which may hold a key (a tool's `params`)."""
    written = getattr(span, "attributes", None) or {}
    for name in ("url.full", "http.url"):  # the new and the old semantic conventions
        if name in written:
            span.set_attribute(name, str(httpx.URL(str(request.url)).copy_with(query=None)))


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = 443 if url.scheme == "https" else 80
    return url.scheme, normal_host(url.host), url.port or default


async def _resolve(ctx: ToolContext, host: str, port: int) -> list[Address]:
    return await resolve_host(host, port, ctx.resolver)


async def resolve_host(host: str, port: int, resolver: Resolver | None = None) -> list[Address]:
    """The addresses of `host`: an unknown name is the model's to fix, a failing resolver is
    worth a retry."""
    try:
        if resolver is not None:
            found = await resolver(host, port)
        else:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
            found = [str(info[4][0]) for info in infos]
    except socket.gaierror as err:
        if err.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise ToolError(f"the host {host} could not be resolved") from err
        raise UpstreamUnavailable(
            f"resolving {host} failed: {err.strerror}", maybe_applied=False
        ) from err
    except OSError as err:
        raise UpstreamUnavailable(f"resolving {host} failed: {err}", maybe_applied=False) from err
    addresses: list[Address] = []
    for text in found:
        try:
            addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
        except ValueError as err:
            raise UpstreamUnavailable(
                f"resolving {host} gave a bad address {text!r}", maybe_applied=False
            ) from err
    if not addresses:
        raise ToolError(f"the host {host} has no addresses")
    return addresses
