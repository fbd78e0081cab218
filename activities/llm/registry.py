"""Build the provider for a `ProviderSpec`, reading its key and header values from the
environment given."""

from __future__ import annotations

import math
from collections.abc import Mapping

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


def build_provider(spec: ProviderSpec, env: Mapping[str, str]) -> ModelProvider:
    """The provider for `spec`: its SDK client times a request out after `spec.timeout_s` and
    sends `spec.headers` (their `${VAR}` references resolved from `env`) with every call.

    Raises a non-retryable `ApplicationError` ("MissingApiKey", "MissingHeaderEnv" or
    "InvalidProviderConfig") when the spec cannot work. Close it with `aclose()` after use."""
    if spec.kind == "scripted":
        return ScriptedProvider()
    if spec.kind not in PROVIDER_KINDS:
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
    if spec.kind == "anthropic":
        return AnthropicProvider(spec, key, headers=resolved.headers, redact=resolved.secrets)
    return OpenAIProvider(spec, key, headers=resolved.headers, redact=resolved.secrets)


def _api_key(spec: ProviderSpec, env: Mapping[str, str]) -> str:
    key = env.get(spec.api_key_env) if spec.api_key_env else None
    if not key:
        raise missing_api_key(spec)
    return key
