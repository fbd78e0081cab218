"""The one interface every model provider implements, and the request it takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    # How many answers the model gave before `script[0]` (the workflow sends only the turn a
    # call needs, and a thread's earlier turns come before it).
    script_start: int = 0
    # Set: the provider streams and calls `on_delta(text)` with each fragment of the answer's
    # text as it arrives, in order; the fragments concatenate to the returned `text`. The result
    # is the same complete message a non-streaming call gives. It runs on the event loop, so it
    # must not block; whatever it raises propagates out of `complete()`. None: no streaming.
    # Never serialized (the request is built inside the activity), so not compared either.
    on_delta: Callable[[str], None] | None = field(default=None, compare=False, repr=False)


class ModelProvider(Protocol):
    """A model behind one wire format. Raises `temporalio.exceptions.ApplicationError` only,
    already classified as retryable or not (see `activities/llm/errors.py`).

    A provider may hold an HTTP client: call `aclose()` when done with it.
    """

    async def complete(self, request: ModelRequest) -> LlmStepResult: ...

    async def aclose(self) -> None: ...
