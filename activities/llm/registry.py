"""Build the provider for a `ProviderSpec`, reading its key from the environment given."""

from __future__ import annotations

from collections.abc import Mapping

from activities.llm.anthropic_provider import AnthropicProvider
from activities.llm.base import ModelProvider
from activities.llm.errors import invalid_provider_config, missing_api_key
from activities.llm.openai_provider import OpenAIProvider
from activities.llm.scripted import ScriptedProvider
from workflows.types import ProviderSpec

PROVIDER_KINDS = ("openai", "anthropic", "openai_compatible", "scripted")
# Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) often need no key, but the SDK
# insists on one.
PLACEHOLDER_API_KEY = "no-key"


def build_provider(
    spec: ProviderSpec, env: Mapping[str, str], *, timeout: float = 60.0
) -> ModelProvider:
    """The provider for `spec`. Raises a non-retryable `ApplicationError` ("MissingApiKey" or
    "InvalidProviderConfig") when the spec cannot work. Close it with `aclose()` after use."""
    if spec.kind == "scripted":
        return ScriptedProvider()
    if spec.kind == "openai":
        return OpenAIProvider(spec, _api_key(spec, env), timeout=timeout)
    if spec.kind == "anthropic":
        return AnthropicProvider(spec, _api_key(spec, env), timeout=timeout)
    if spec.kind == "openai_compatible":
        if not spec.base_url:
            raise invalid_provider_config(spec, "an openai_compatible provider needs a base_url")
        key = _api_key(spec, env) if spec.api_key_env else PLACEHOLDER_API_KEY
        return OpenAIProvider(spec, key, timeout=timeout)
    raise invalid_provider_config(
        spec, f"unknown provider kind (expected one of: {', '.join(PROVIDER_KINDS)})"
    )


def _api_key(spec: ProviderSpec, env: Mapping[str, str]) -> str:
    key = env.get(spec.api_key_env) if spec.api_key_env else None
    if not key:
        raise missing_api_key(spec)
    return key
