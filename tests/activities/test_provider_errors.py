"""Provider failures become classified ApplicationErrors, with one HTTP request per call."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from temporalio.exceptions import ApplicationError

from activities.llm.anthropic_provider import AnthropicProvider
from activities.llm.base import ModelProvider, ModelRequest
from activities.llm.errors import (
    CONTEXT_LENGTH_EXCEEDED,
    INVALID_PROVIDER_CONFIG,
    MAX_RETRY_AFTER,
    MISSING_API_KEY,
    PROVIDER_RATE_LIMITED,
    PROVIDER_REJECTED,
    PROVIDER_UNAVAILABLE,
    parse_retry_after,
)
from activities.llm.openai_provider import OpenAIProvider
from activities.llm.registry import PLACEHOLDER_API_KEY, build_provider
from activities.llm.scripted import ScriptedProvider
from tests.fakes import FakeProviderServer
from tests.support.llm import API_KEY, anthropic_spec, openai_spec, request
from workflows.types import ProviderSpec

CLAUDE = "claude-test-model"


async def _fail(provider: ModelProvider, req: ModelRequest) -> ApplicationError:
    try:
        with pytest.raises(ApplicationError) as caught:
            await provider.complete(req)
    finally:
        await provider.aclose()
    error = caught.value
    assert error.__cause__ is None  # the SDK error (and the body it quotes) stays behind
    assert API_KEY not in str(error)
    return error


async def _openai_fails(server: FakeProviderServer, *, timeout_s: float = 60.0) -> ApplicationError:
    spec = dataclasses.replace(openai_spec(server.openai_base_url), timeout_s=timeout_s)
    return await _fail(OpenAIProvider(spec, API_KEY), request(spec))


async def _anthropic_fails(server: FakeProviderServer) -> ApplicationError:
    spec = anthropic_spec(server.anthropic_base_url)
    return await _fail(AnthropicProvider(spec, API_KEY), request(spec, model=CLAUDE))


async def test_openai_429_honours_retry_after(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_fault(429, headers={"Retry-After": "2"}, message="Slow down")

    error = await _openai_fails(fake_provider)

    assert error.type == PROVIDER_RATE_LIMITED
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=2)
    assert error.message == "openai provider 'main' (model gpt-4o-mini) answered 429: Slow down"
    assert len(fake_provider.requests) == 1


async def test_anthropic_429_honours_retry_after_ms(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_fault(429, headers={"retry-after-ms": "1500", "retry-after": "9"})

    error = await _anthropic_fails(fake_provider)

    assert error.type == PROVIDER_RATE_LIMITED
    assert error.next_retry_delay == timedelta(seconds=1.5)
    assert len(fake_provider.requests) == 1


async def test_openai_500_is_retryable(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_fault(500, message="The server had an error")

    error = await _openai_fails(fake_provider)

    assert error.type == PROVIDER_UNAVAILABLE
    assert not error.non_retryable
    assert error.next_retry_delay is None
    assert "answered 500" in error.message
    assert len(fake_provider.requests) == 1  # SDK retries are off


async def test_anthropic_529_overloaded_is_retryable(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_fault(529, message="Overloaded")

    error = await _anthropic_fails(fake_provider)

    assert error.type == PROVIDER_UNAVAILABLE
    assert not error.non_retryable
    assert error.message == f"anthropic provider 'claude' (model {CLAUDE}) answered 529: Overloaded"
    assert len(fake_provider.requests) == 1


@pytest.mark.parametrize("status", [408, 409, 502, 503])
async def test_other_transient_statuses_are_retryable(
    fake_provider: FakeProviderServer, status: int
) -> None:
    fake_provider.queue_fault(status)

    error = await _openai_fails(fake_provider)

    assert error.type == PROVIDER_UNAVAILABLE
    assert not error.non_retryable


async def test_openai_401_is_not_retryable_and_hides_the_key(
    fake_provider: FakeProviderServer,
) -> None:
    fake_provider.queue_fault(401, message=f"Incorrect API key provided: {API_KEY}.")

    error = await _openai_fails(fake_provider)

    assert error.type == PROVIDER_REJECTED
    assert error.non_retryable
    assert error.message.startswith("openai provider 'main' (model gpt-4o-mini) answered 401: ")
    assert "Incorrect API key provided: ***" in error.message
    assert len(fake_provider.requests) == 1


async def test_anthropic_401_is_not_retryable(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_fault(401, message="invalid x-api-key")

    error = await _anthropic_fails(fake_provider)

    assert error.type == PROVIDER_REJECTED
    assert error.non_retryable
    assert error.message == (
        f"anthropic provider 'claude' (model {CLAUDE}) answered 401: invalid x-api-key"
    )


@pytest.mark.parametrize("status", [400, 403, 404, 413, 422])
async def test_client_errors_are_rejected(fake_provider: FakeProviderServer, status: int) -> None:
    fake_provider.queue_fault(status)

    error = await _anthropic_fails(fake_provider)

    assert error.type == PROVIDER_REJECTED
    assert error.non_retryable
    assert f"answered {status}" in error.message


async def test_openai_context_length_code(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_fault(
        400, code="context_length_exceeded", message="This model's maximum context length is 8"
    )

    error = await _openai_fails(fake_provider)

    assert error.type == CONTEXT_LENGTH_EXCEEDED
    assert error.non_retryable


async def test_connection_refused_is_retryable(fake_provider: FakeProviderServer) -> None:
    base_url = fake_provider.openai_base_url
    fake_provider.stop()
    try:
        error = await _openai_fails(fake_provider)
        anthropic_error = await _anthropic_fails(fake_provider)
    finally:
        fake_provider.start()

    assert error.type == PROVIDER_UNAVAILABLE
    assert not error.non_retryable
    assert "unreachable" in error.message
    assert anthropic_error.type == PROVIDER_UNAVAILABLE
    # Back on the same port, it answers again.
    assert fake_provider.openai_base_url == base_url
    spec = openai_spec(base_url)
    async with OpenAIProvider(spec, API_KEY) as provider:
        result = await provider.complete(request(spec))
    assert result.text == fake_provider.default_text


async def test_timeout_is_retryable(fake_provider: FakeProviderServer) -> None:
    fake_provider.queue_fault(500, delay=1.0)

    error = await _openai_fails(fake_provider, timeout_s=0.2)

    assert error.type == PROVIDER_UNAVAILABLE
    assert not error.non_retryable
    assert "timed out" in error.message


# ----- build_provider -----


def test_missing_key_names_the_env_var() -> None:
    spec = ProviderSpec(name="main", kind="openai", api_key_env="OPENAI_API_KEY")

    for env in ({}, {"OPENAI_API_KEY": ""}):
        with pytest.raises(ApplicationError) as caught:
            build_provider(spec, env)
        assert caught.value.type == MISSING_API_KEY
        assert caught.value.non_retryable
        assert caught.value.message == (
            "provider 'main' needs env var OPENAI_API_KEY, which is not set"
        )


def test_provider_without_api_key_env() -> None:
    spec = ProviderSpec(name="c", kind="anthropic")

    with pytest.raises(ApplicationError) as caught:
        build_provider(spec, {"ANTHROPIC_API_KEY": API_KEY})

    assert caught.value.type == MISSING_API_KEY
    assert "api_key_env" in caught.value.message


def test_build_provider_kinds() -> None:
    env = {"OPENAI_API_KEY": API_KEY, "ANTHROPIC_API_KEY": API_KEY}
    assert isinstance(
        build_provider(ProviderSpec(name="s", kind="scripted"), env), ScriptedProvider
    )
    assert isinstance(
        build_provider(ProviderSpec(name="o", kind="openai", api_key_env="OPENAI_API_KEY"), env),
        OpenAIProvider,
    )
    assert isinstance(
        build_provider(
            ProviderSpec(name="a", kind="anthropic", api_key_env="ANTHROPIC_API_KEY"), env
        ),
        AnthropicProvider,
    )


@pytest.mark.parametrize(
    "spec",
    [
        ProviderSpec(name="x", kind="openai_compatible"),  # no base_url
        ProviderSpec(name="x", kind="gemini", api_key_env="K"),
    ],
)
def test_unusable_specs(spec: ProviderSpec) -> None:
    with pytest.raises(ApplicationError) as caught:
        build_provider(spec, {"K": "k"})

    assert caught.value.type == INVALID_PROVIDER_CONFIG
    assert caught.value.non_retryable
    assert "'x'" in caught.value.message


async def test_openai_compatible_without_key(fake_provider: FakeProviderServer) -> None:
    spec = ProviderSpec(
        name="local", kind="openai_compatible", base_url=fake_provider.openai_base_url
    )

    provider = build_provider(spec, {})
    try:
        await provider.complete(request(spec, model="llama3"))
    finally:
        await provider.aclose()

    assert fake_provider.requests[0].headers["authorization"] == f"Bearer {PLACEHOLDER_API_KEY}"


async def test_openai_compatible_with_missing_key() -> None:
    spec = ProviderSpec(
        name="local", kind="openai_compatible", base_url="http://127.0.0.1:9", api_key_env="K"
    )
    with pytest.raises(ApplicationError) as caught:
        build_provider(spec, {})
    assert caught.value.type == MISSING_API_KEY


# ----- Retry-After parsing -----


def test_parse_retry_after() -> None:
    now = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    in_ten = format_datetime(now + timedelta(seconds=10), usegmt=True)

    assert parse_retry_after({"Retry-After": "2"}) == timedelta(seconds=2)
    assert parse_retry_after({"retry-after": "0.5"}) == timedelta(seconds=0.5)
    assert parse_retry_after({"Retry-After-Ms": "250"}) == timedelta(milliseconds=250)
    assert parse_retry_after({"Retry-After": in_ten}, now=now) == timedelta(seconds=10)
    assert parse_retry_after({"Retry-After": "86400"}) == MAX_RETRY_AFTER
    for useless in ("", "soon", "-3", "0", "nan", "inf"):
        assert parse_retry_after({"Retry-After": useless}, now=now) is None
    past = format_datetime(now - timedelta(seconds=10), usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now=now) is None
    assert parse_retry_after({}) is None
