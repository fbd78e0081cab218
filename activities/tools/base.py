"""What every tool shares: the error the model should see, and the context a call runs in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ToolError(Exception):
    """A problem the model should see as the tool's result (bad arguments, file not found,
    division by zero). Anything else raised by a tool is a failure of the tool itself."""


@dataclass(frozen=True)
class ToolContext:
    """Where a tool call runs: the directory file tools may read, and the result size cap."""

    workspace_dir: Path
    max_output_chars: int = 100_000


# A tool implementation: (validated arguments, context, the tool's `config`) -> result text.
ToolFunction = Callable[[Mapping[str, Any], ToolContext, Mapping[str, Any]], Awaitable[str]]


@dataclass(frozen=True)
class ToolKind:
    """One kind of tool: its implementation and what it offers the model by default."""

    kind: str
    run: ToolFunction
    description: str
    parameters: Mapping[str, Any]  # JSON Schema used when a ToolSpec has none
