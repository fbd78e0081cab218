"""Shared builders for the provider tests."""

from __future__ import annotations

from activities.llm.base import ModelRequest
from workflows.kinds import ProviderKind
from workflows.types import ProviderSpec, ToolSpec, TranscriptMessage

API_KEY = "sk-test-SECRET-0123456789"

CALCULATOR = ToolSpec(
    name="calculator",
    kind="calculator",
    description="Evaluate arithmetic",
    parameters={
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)
READ_FILE = ToolSpec(
    name="read_file",
    kind="read_file",
    description="Read a file",
    parameters={
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    },
)


def openai_spec(base_url: str, *, kind: ProviderKind = "openai") -> ProviderSpec:
    return ProviderSpec(name="main", kind=kind, base_url=base_url, api_key_env="OPENAI_API_KEY")


def anthropic_spec(base_url: str) -> ProviderSpec:
    return ProviderSpec(
        name="claude", kind="anthropic", base_url=base_url, api_key_env="ANTHROPIC_API_KEY"
    )


def request(
    provider: ProviderSpec,
    *messages: TranscriptMessage,
    model: str = "gpt-4o-mini",
    system_prompt: str = "You are terse.",
    tools: tuple[ToolSpec, ...] = (CALCULATOR,),
) -> ModelRequest:
    return ModelRequest(
        provider=provider,
        model=model,
        system_prompt=system_prompt,
        messages=messages or (TranscriptMessage(role="user", text="Hi"),),
        tools=tools,
    )
