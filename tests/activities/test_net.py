"""The outbound HTTP guard against a real local server, with an injected resolver playing DNS.

Every attack must be refused *before* a byte reaches the server: the tests assert the server
recorded no request (or not the forbidden one).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from activities.tools.base import OutboundPolicy, ToolContext, ToolError
from activities.tools.net import (
    BlockedDestination,
    UpstreamUnavailable,
    check_status,
    fetch,
    idempotency_key,
    refusal,
)
from tests.fakes.http_api_server import Canned, FakeHttpApiServer

PUBLIC_NAME = "api.public-example.com"


class FakeDns:
    """A resolver with a fixed table; records the names it was asked about."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.table[host]


def context(*allow: str, dns: dict[str, list[str]] | None = None, **policy: float) -> ToolContext:
    outbound = OutboundPolicy(allow_hosts=frozenset(allow), **policy)  # type: ignore[arg-type]
    return ToolContext(workspace_dir=Path("."), outbound=outbound, resolver=FakeDns(dns or {}))


# ----- refused destinations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata"),
        ("http://[fd00:ec2::254]/latest/", "cloud metadata"),
        ("http://100.100.100.200/", "cloud metadata"),
        ("http://127.0.0.1:{port}/", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://[::1]:{port}/", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback address (as 127.0.0.1)"),
        ("http://2130706433:{port}/", "127.0.0.1 is a loopback address"),
        ("http://0x7f000001:{port}/", "127.0.0.1 is a loopback address"),
        ("http://127.1:{port}/", "127.0.0.1 is a loopback address"),
        ("http://0.0.0.0:{port}/", "unspecified"),
        ("http://10.1.2.3/", "private address"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
    ],
)
async def test_internal_addresses_are_refused(api: FakeHttpApiServer, url: str, why: str) -> None:
    with pytest.raises(BlockedDestination) as refused:
        await fetch(context(), "GET", url.format(port=api.port))
    assert why in str(refused.value)
    assert "OUTBOUND_ALLOW_HOSTS" in str(refused.value)
    assert api.requests == []


async def test_a_name_that_resolves_inside_is_refused(api: FakeHttpApiServer) -> None:
    ctx = context(dns={"intranet.example.com": ["93.184.216.34", "10.0.0.5"]})
    with pytest.raises(BlockedDestination) as refused:
        await fetch(ctx, "GET", "http://intranet.example.com/")
    message = str(refused.value)
    assert "intranet.example.com resolves to 10.0.0.5, a private address" in message


async def test_a_public_looking_host_that_redirects_to_loopback_is_refused(
    api: FakeHttpApiServer,
) -> None:
    api.answer("/start", Canned.redirect(f"http://127.0.0.1:{api.port}/secret"))
    ctx = context(PUBLIC_NAME, dns={PUBLIC_NAME: ["127.0.0.1"]})
    with pytest.raises(BlockedDestination) as refused:
        await fetch(ctx, "GET", f"http://{PUBLIC_NAME}:{api.port}/start")
    assert "127.0.0.1 is a loopback address" in str(refused.value)
    assert [r.path for r in api.requests] == ["/start"]
    assert api.requests_to("/secret") == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.com/", "ftp://x/"])
async def test_only_http_and_https_are_allowed(url: str) -> None:
    with pytest.raises(BlockedDestination, match="only http and https"):
        await fetch(context(), "GET", url)


def test_address_classes() -> None:
    assert refusal(ipaddress.ip_address("93.184.216.34")) is None
    assert refusal(ipaddress.ip_address("2606:2800:220:1::1")) is None
    assert refusal(ipaddress.ip_address("64:ff9b::a9fe:a9fe")) == (
        "a cloud metadata address (as 169.254.169.254)"
    )
    assert refusal(ipaddress.ip_address("2002:0a00:0001::1")) == "a private address (as 10.0.0.1)"
    assert refusal(ipaddress.ip_address("fe80::1")) == "a link-local address"
    assert refusal(ipaddress.ip_address("224.0.0.1")) == "a multicast address"
    assert refusal(ipaddress.ip_address("240.0.0.1")) == "a reserved address"
    assert refusal(ipaddress.ip_address("192.0.2.1")) == "a private address"


# ----- allowed exchanges --------------------------------------------------------------------


async def test_an_allowlisted_name_connects_to_the_checked_address_with_its_host_header(
    api: FakeHttpApiServer,
) -> None:
    dns = FakeDns({PUBLIC_NAME: ["127.0.0.1"]})
    ctx = ToolContext(
        workspace_dir=Path("."),
        outbound=OutboundPolicy(allow_hosts=frozenset({PUBLIC_NAME.upper()})),
        resolver=dns,
    )
    api.answer("/items", Canned(json={"ok": True}))
    result = await fetch(ctx, "GET", f"http://{PUBLIC_NAME}:{api.port}/items", params={"q": "a b"})
    assert result.status == 200 and result.json() == {"ok": True}
    assert result.headers["content-type"] == "application/json"
    assert result.url == f"http://{PUBLIC_NAME}:{api.port}/items?q=a+b"
    (seen,) = api.requests
    assert seen.headers["host"] == f"{PUBLIC_NAME}:{api.port}"
    assert seen.query == {"q": "a b"}
    assert dns.asked == [PUBLIC_NAME]


async def test_the_next_checked_address_is_tried_when_one_refuses(api: FakeHttpApiServer) -> None:
    """The fake listens on 127.0.0.1 only: the connection to ::1 fails, the next one answers."""
    ctx = context(PUBLIC_NAME, dns={PUBLIC_NAME: ["::1", "127.0.0.1"]})
    result = await fetch(ctx, "GET", f"http://{PUBLIC_NAME}:{api.port}/multi")
    assert result.status == 200 and [r.path for r in api.requests] == ["/multi"]


async def test_an_allowlisted_redirect_chain_is_followed(api: FakeHttpApiServer) -> None:
    api.answer("/a", Canned.redirect("/b", status=301))
    api.answer("/b", Canned.redirect(f"{api.base_url}/c", status=307))
    api.answer("/c", Canned(text="arrived"))
    result = await fetch(context("127.0.0.1"), "GET", f"{api.base_url}/a")
    assert result.text() == "arrived" and result.url == f"{api.base_url}/c"
    assert [r.path for r in api.requests] == ["/a", "/b", "/c"]


async def test_too_many_redirects_are_an_error(api: FakeHttpApiServer) -> None:
    api.answer("/loop", Canned.redirect("/loop"))
    with pytest.raises(ToolError, match="more than 2 redirects"):
        await fetch(context("127.0.0.1", max_redirects=2), "GET", f"{api.base_url}/loop")
    assert len(api.requests) == 3


async def test_redirects_are_not_followed_when_asked(api: FakeHttpApiServer) -> None:
    api.answer("/a", Canned.redirect("/b"))
    result = await fetch(context("127.0.0.1"), "GET", f"{api.base_url}/a", follow_redirects=False)
    assert result.status == 302 and result.headers["location"] == "/b"


async def test_303_and_post_302_become_get_without_a_body(api: FakeHttpApiServer) -> None:
    api.answer("/post", Canned.redirect("/after", status=303))
    api.answer("/post302", Canned.redirect("/after", status=302))
    api.answer("/put307", Canned.redirect("/after", status=307))
    ctx = context("127.0.0.1")
    await fetch(ctx, "POST", f"{api.base_url}/post", json_body={"a": 1})
    await fetch(ctx, "POST", f"{api.base_url}/post302", content=b"raw")
    await fetch(ctx, "PUT", f"{api.base_url}/put307", json_body={"b": 2})
    after = api.requests_to("/after")
    assert [(r.method, r.body) for r in after] == [("GET", b""), ("GET", b""), ("PUT", b'{"b":2}')]
    assert "content-type" not in after[0].headers
    assert after[2].headers["content-type"] == "application/json"


async def test_credentials_are_dropped_when_a_redirect_leaves_the_host(
    api: FakeHttpApiServer,
) -> None:
    other = "other.public-example.com"
    ctx = context(PUBLIC_NAME, other, dns={PUBLIC_NAME: ["127.0.0.1"], other: ["127.0.0.1"]})
    api.answer("/same", Canned.redirect("/hop"))
    api.answer("/hop", Canned.redirect(f"http://{other}:{api.port}/away"))
    headers = {"Authorization": "Bearer t0ken", "X-Api-Key": "k3y", "Cookie": "c=1", "X-Plain": "p"}
    await fetch(
        ctx,
        "GET",
        f"http://{PUBLIC_NAME}:{api.port}/same",
        headers=headers,
        sensitive_headers=["x-api-key"],
    )
    hop, away = api.requests_to("/hop")[0], api.requests_to("/away")[0]
    assert hop.headers["authorization"] == "Bearer t0ken" and hop.headers["x-api-key"] == "k3y"
    assert away.headers["host"] == f"{other}:{api.port}"
    assert "authorization" not in away.headers and "cookie" not in away.headers
    assert "x-api-key" not in away.headers and away.headers["x-plain"] == "p"


async def test_callers_cannot_set_the_host_header(api: FakeHttpApiServer) -> None:
    await fetch(context("127.0.0.1"), "GET", f"{api.base_url}/x", headers={"Host": "internal"})
    assert api.requests[0].headers["host"] == f"127.0.0.1:{api.port}"


# ----- limits and errors --------------------------------------------------------------------


async def test_the_body_is_cut_at_the_cap(api: FakeHttpApiServer) -> None:
    api.answer("/endless", Canned(endless=True))
    api.answer("/small", Canned(text="tiny"))
    ctx = context("127.0.0.1", max_response_bytes=50_000)
    result = await fetch(ctx, "GET", f"{api.base_url}/endless", max_bytes=100_000)
    assert result.truncated and len(result.body) == 50_000
    smaller = await fetch(ctx, "GET", f"{api.base_url}/endless", max_bytes=1000)
    assert smaller.truncated and len(smaller.body) == 1000
    whole = await fetch(ctx, "GET", f"{api.base_url}/small")
    assert not whole.truncated and whole.text() == "tiny"


async def test_the_whole_exchange_is_timed(api: FakeHttpApiServer) -> None:
    api.answer("/slow", Canned(text="late", delay=1))
    with pytest.raises(UpstreamUnavailable, match="within 0.3 s"):
        await fetch(context("127.0.0.1", timeout_s=5), "GET", f"{api.base_url}/slow", timeout_s=0.3)


async def test_a_refused_connection_is_retryable() -> None:
    with pytest.raises(UpstreamUnavailable, match="127.0.0.1"):
        await fetch(context("127.0.0.1"), "GET", "http://127.0.0.1:9/")


async def test_an_unknown_name_is_for_the_model_to_fix() -> None:
    ctx = ToolContext(workspace_dir=Path("."))
    with pytest.raises(ToolError, match="could not be resolved"):
        await fetch(ctx, "GET", "http://no-such-host.invalid/")


async def test_statuses(api: FakeHttpApiServer) -> None:
    api.answer("/missing", Canned(status=404, json={"message": "no such item"}))
    api.answer("/down", Canned(status=503, text="later"))
    api.answer("/busy", Canned(status=429, headers={"Retry-After": "7"}))
    ctx = context("127.0.0.1")
    missing = await fetch(ctx, "GET", f"{api.base_url}/missing")
    with pytest.raises(ToolError, match='the API answered 404: {"message": "no such item"}'):
        check_status(missing, "the API")
    for path, wait in (("/down", None), ("/busy", 7.0)):
        with pytest.raises(UpstreamUnavailable, match="answered") as unavailable:
            check_status(await fetch(ctx, "GET", f"{api.base_url}{path}"), "the API")
        assert unavailable.value.retry_after_s == wait
    check_status(await fetch(ctx, "GET", f"{api.base_url}/ok"), "the API")


async def test_text_uses_the_declared_charset_and_json_errors_are_for_the_model(
    api: FakeHttpApiServer,
) -> None:
    latin = Canned(
        body="café".encode("latin-1"), headers={"content-type": "text/plain; charset=latin-1"}
    )
    api.answer("/latin", latin)
    result = await fetch(context("127.0.0.1"), "GET", f"{api.base_url}/latin")
    assert result.text() == "café"
    with pytest.raises(ToolError, match="not valid JSON"):
        result.json()


def test_the_idempotency_key_is_stable_and_distinct() -> None:
    key = idempotency_key("run-1", "call-1")
    assert key == idempotency_key("run-1", "call-1") and key.startswith("orch-")
    assert len(key) == len("orch-") + 32
    assert key != idempotency_key("run-1", "call-2") != idempotency_key("run-1c", "all-1")
    assert "run-1" not in key


# ----- TLS to a pinned address ----------------------------------------------------------------


def _self_signed(tmp_path: Path, name: str) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ssl.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return server_ssl


async def test_https_to_a_pinned_address_sends_the_name_and_verifies_the_certificate(
    tmp_path: Path,
) -> None:
    """The connection goes to the checked IP, yet the TLS server name is the host name (so a
    real certificate for it verifies), and an untrusted certificate is refused, not retried."""
    server_names: list[str | None] = []
    server_ssl = _self_signed(tmp_path, PUBLIC_NAME)
    server_ssl.sni_callback = lambda _sock, name, _ctx: server_names.append(name)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    tls = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ssl)
    port = tls.sockets[0].getsockname()[1]
    ctx = context(PUBLIC_NAME, dns={PUBLIC_NAME: ["127.0.0.1"]})
    async with tls:
        with pytest.raises(ToolError, match=f"certificate of {PUBLIC_NAME} could not be verified"):
            await fetch(ctx, "GET", f"https://{PUBLIC_NAME}:{port}/")
    assert server_names == [PUBLIC_NAME]
