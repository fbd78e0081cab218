"""The one interface every model provider implements, and the request it takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from workflows.types import (
    LlmStepResult,
    ProviderSpec,
    ScriptTurn,
    ToolSpec,
    TranscriptMessage,
)


@dataclass(frozen=True)
class ModelRequest:
    """Everything a provider needs for one completion. Built inside the LLM activity."""

    provider: ProviderSpec
    model: str
    system_prompt: str
    messages: tuple[TranscriptMessage, ...]
    tools: tuple[ToolSpec, ...] = ()
    temperature: float | None = None
    max_tokens: int = 1024
    script: tuple[ScriptTurn, ...] = ()
    # Index in the agent's whole script of `script[0]`: the workflow sends only the turn it needs.
    script_start: int = 0


class ModelProvider(Protocol):
    """A model behind one wire format. Raises `temporalio.exceptions.ApplicationError` only,
    already classified as retryable or not (see `activities/llm/errors.py`).

    A provider may hold an HTTP client: call `aclose()` when done with it.
    """

    async def complete(self, request: ModelRequest) -> LlmStepResult: ...

    async def aclose(self) -> None: ...
