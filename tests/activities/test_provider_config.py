"""Provider settings that shape every request: the timeout and the extra headers (with `${VAR}`
references resolved from the environment), with the real SDKs against the fake server."""

from __future__ import annotations

import dataclasses
import time

import pytest
from temporalio.exceptions import ApplicationError

from activities.llm.base import ModelProvider
from activities.llm.errors import (
    INVALID_PROVIDER_CONFIG,
    MISSING_HEADER_ENV,
    PROVIDER_REJECTED,
    PROVIDER_UNAVAILABLE,
)
from activities.llm.headers import resolve_headers
from activities.llm.registry import build_provider
from tests.fakes import FakeProviderServer, FakeReply
from tests.fakes.provider_server import Wire
from tests.support.llm import API_KEY, anthropic_spec, openai_spec, request
from workflows.types import ProviderSpec

HEADER_SECRET = "hdr-SECRET-4f2a9c"
ENV = {
    "OPENAI_API_KEY": API_KEY,
    "ANTHROPIC_API_KEY": API_KEY,
    "GATEWAY_TOKEN": HEADER_SECRET,
    "ORG": "acme",
    "TEAM": "search",
}
HEADERS = {
    "Authorization-Gateway": "Bearer ${GATEWAY_TOKEN}",
    "X-Team": "${ORG}-${TEAM}/v1",
    "X-Plain": "literal ${not a reference}",
}


def _spec(server: FakeProviderServer, wire: Wire, **changes: object) -> ProviderSpec:
    base = (
        openai_spec(server.openai_base_url)
        if wire == "openai"
        else anthropic_spec(server.anthropic_base_url)
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def _complete_or_fail(provider: ModelProvider, spec: ProviderSpec) -> ApplicationError:
    try:
        with pytest.raises(ApplicationError) as caught:
            await provider.complete(request(spec, model="m"))
    finally:
        await provider.aclose()
    return caught.value


# ----- timeout_s -----


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_timeout_s_bounds_one_request(fake_provider: FakeProviderServer, wire: Wire) -> None:
    fake_provider.queue_reply(FakeReply(text="too late", delay=3.0))
    spec = _spec(fake_provider, wire, timeout_s=0.5)

    started = time.monotonic()
    error = await _complete_or_fail(build_provider(spec, ENV), spec)
    elapsed = time.monotonic() - started

    assert error.type == PROVIDER_UNAVAILABLE
    assert not error.non_retryable
    assert error.message.endswith("timed out")
    assert 0.4 <= elapsed < 2.0
    assert len(fake_provider.requests) == 1  # SDK retries are off


async def test_a_reply_within_timeout_s_arrives(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_reply(FakeReply(text="in time", delay=0.2))
    spec = _spec(fake_provider, "openai", timeout_s=2.0)

    provider = build_provider(spec, ENV)
    try:
        result = await provider.complete(request(spec))
    finally:
        await provider.aclose()

    assert result.text == "in time"


@pytest.mark.parametrize("timeout_s", [0.0, -1.0, float("nan"), float("inf")])
def test_unusable_timeout_s(timeout_s: float) -> None:
    spec = dataclasses.replace(openai_spec("http://127.0.0.1:9"), timeout_s=timeout_s)

    with pytest.raises(ApplicationError) as caught:
        build_provider(spec, ENV)

    assert caught.value.type == INVALID_PROVIDER_CONFIG
    assert caught.value.non_retryable
    assert "timeout_s" in caught.value.message


# ----- headers -----


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_headers_reach_the_server_resolved(
    fake_provider: FakeProviderServer, wire: Wire
) -> None:
    spec = _spec(fake_provider, wire, headers=HEADERS)

    provider = build_provider(spec, ENV)
    try:
        await provider.complete(request(spec, model="m"))
    finally:
        await provider.aclose()

    (sent,) = fake_provider.requests
    assert sent.headers["authorization-gateway"] == f"Bearer {HEADER_SECRET}"
    assert sent.headers["x-team"] == "acme-search/v1"
    assert sent.headers["x-plain"] == "literal ${not a reference}"
    # The SDK's own auth header is still there.
    assert API_KEY in sent.headers.get("authorization", "") + sent.headers.get("x-api-key", "")


@pytest.mark.parametrize("unset", [{}, {"TEAM": ""}])
def test_a_missing_header_var_names_provider_header_and_var(unset: dict[str, str]) -> None:
    env = {key: value for key, value in ENV.items() if key != "TEAM"} | unset
    spec = dataclasses.replace(openai_spec("http://127.0.0.1:9"), headers=HEADERS)

    with pytest.raises(ApplicationError) as caught:
        build_provider(spec, env)

    error = caught.value
    assert error.type == MISSING_HEADER_ENV
    assert error.non_retryable
    assert error.message == "provider 'main' header X-Team needs env var TEAM, which is not set"
    assert HEADER_SECRET not in error.message and "acme" not in error.message


async def test_a_missing_header_var_sends_nothing(fake_provider: FakeProviderServer) -> None:
    spec = _spec(fake_provider, "anthropic", headers={"X-Token": "${NOPE}"})

    with pytest.raises(ApplicationError) as caught:
        build_provider(spec, ENV)

    assert caught.value.type == MISSING_HEADER_ENV
    assert "NOPE" in caught.value.message and "'claude'" in caught.value.message
    assert fake_provider.requests == []


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_a_resolved_header_value_never_shows_in_an_error(
    fake_provider: FakeProviderServer, wire: Wire
) -> None:
    # A server that quotes back what it got, in the error body.
    fake_provider.queue_fault(
        401, message=f"bad gateway token Bearer {HEADER_SECRET} (token {HEADER_SECRET})"
    )
    spec = _spec(fake_provider, wire, headers=HEADERS)

    error = await _complete_or_fail(build_provider(spec, ENV), spec)

    assert error.type == PROVIDER_REJECTED
    assert HEADER_SECRET not in error.message
    assert error.message.endswith("answered 401: bad gateway token *** (token ***)")
    assert error.__cause__ is None


def test_a_header_value_with_a_line_break_is_refused() -> None:
    spec = dataclasses.replace(openai_spec("http://127.0.0.1:9"), headers={"X-T": "${BAD}"})

    with pytest.raises(ApplicationError) as caught:
        build_provider(spec, {**ENV, "BAD": "a\r\nX-Injected: 1"})

    assert caught.value.type == INVALID_PROVIDER_CONFIG
    assert "X-T" in caught.value.message and "Injected" not in caught.value.message


def test_resolve_headers_lists_what_came_from_the_env() -> None:
    spec = ProviderSpec(name="p", kind="openai", headers=HEADERS)

    resolved = resolve_headers(spec, ENV)

    assert resolved.headers == {
        "Authorization-Gateway": f"Bearer {HEADER_SECRET}",
        "X-Team": "acme-search/v1",
        "X-Plain": "literal ${not a reference}",
    }
    assert set(resolved.secrets) == {
        HEADER_SECRET,
        f"Bearer {HEADER_SECRET}",
        "acme",
        "search",
        "acme-search/v1",
    }
    assert resolve_headers(ProviderSpec(name="p", kind="openai"), {}).headers == {}


def test_scripted_provider_ignores_headers_and_env() -> None:
    spec = ProviderSpec(name="s", kind="scripted", headers={"X": "${UNSET}"})
    assert build_provider(spec, {}) is not None
