"""Build the provider for a `ProviderSpec`, reading its key and header values from the
environment given."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import anthropic
import openai

from activities.llm import anthropic_provider, openai_provider
from activities.llm.anthropic_provider import AnthropicProvider
from activities.llm.base import ModelProvider
from activities.llm.errors import invalid_provider_config, missing_api_key
from activities.llm.headers import resolve_headers
from activities.llm.openai_provider import OpenAIProvider
from activities.llm.scripted import ScriptedProvider
from workflows.kinds import PROVIDER_KINDS
from workflows.types import ProviderSpec

# Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) often need no key, but the SDK
# insists on one.
PLACEHOLDER_API_KEY = "no-key"

SdkClient = openai.AsyncOpenAI | anthropic.AsyncAnthropic


@dataclass(frozen=True, repr=False)
class ProviderSettings:
    """What a checked HTTP provider spec resolves to in this worker's environment. Holds secrets:
    never logged (hence no repr)."""

    api_key: str
    headers: dict[str, str]
    # Values besides the key that must never appear in an error message (header values taken
    # from the environment).
    secrets: tuple[str, ...] = ()


def build_provider(spec: ProviderSpec, env: Mapping[str, str]) -> ModelProvider:
    """The provider for `spec`, with an SDK client of its own: it times a request out after
    `spec.timeout_s` and sends `spec.headers` (their `${VAR}` references resolved from `env`)
    with every call. (The worker pools its clients instead: activities/llm/clients.py.)

    Raises a non-retryable `ApplicationError` ("MissingApiKey", "MissingHeaderEnv" or
    "InvalidProviderConfig") when the spec cannot work. Close it with `aclose()` after use."""
    if spec.kind == "scripted":
        return ScriptedProvider()
    return provider_for(spec, provider_settings(spec, env))


def provider_settings(spec: ProviderSpec, env: Mapping[str, str]) -> ProviderSettings:
    """Check an HTTP provider's spec and read its key and headers from `env`. Raises what
    `build_provider` raises."""
    if spec.kind not in PROVIDER_KINDS or spec.kind == "scripted":
        raise invalid_provider_config(
            spec, f"unknown provider kind (expected one of: {', '.join(PROVIDER_KINDS)})"
        )
    if spec.kind == "openai_compatible" and not spec.base_url:
        raise invalid_provider_config(spec, "an openai_compatible provider needs a base_url")
    if not (math.isfinite(spec.timeout_s) and spec.timeout_s > 0):
        raise invalid_provider_config(spec, "timeout_s must be a positive number of seconds")
    if spec.kind == "openai_compatible" and not spec.api_key_env:
        key = PLACEHOLDER_API_KEY
    else:
        key = _api_key(spec, env)
    resolved = resolve_headers(spec, env)
    return ProviderSettings(api_key=key, headers=resolved.headers, secrets=resolved.secrets)


def new_client(spec: ProviderSpec, settings: ProviderSettings) -> SdkClient:
    """A new SDK client for a checked spec. Blocking (a TLS context is set up): off the loop."""
    if spec.kind == "anthropic":
        return anthropic_provider.new_client(spec, settings.api_key, settings.headers)
    return openai_provider.new_client(spec, settings.api_key, settings.headers)


def provider_for(
    spec: ProviderSpec, settings: ProviderSettings, client: SdkClient | None = None
) -> ModelProvider:
    """The provider of a checked spec, over `client` (built by `new_client` for the same spec
    and settings; `aclose()` leaves it open), or over a client of its own when None."""
    key, headers, redact = settings.api_key, settings.headers, settings.secrets
    if spec.kind == "anthropic":
        if client is not None and not isinstance(client, anthropic.AsyncAnthropic):
            raise TypeError("an anthropic provider needs an AsyncAnthropic client")
        return AnthropicProvider(spec, key, headers=headers, redact=redact, client=client)
    if client is not None and not isinstance(client, openai.AsyncOpenAI):
        raise TypeError(f"a {spec.kind} provider needs an AsyncOpenAI client")
    return OpenAIProvider(spec, key, headers=headers, redact=redact, client=client)


def _api_key(spec: ProviderSpec, env: Mapping[str, str]) -> str:
    key = env.get(spec.api_key_env) if spec.api_key_env else None
    if not key:
        raise missing_api_key(spec)
    return key
