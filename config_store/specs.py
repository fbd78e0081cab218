"""Input shapes of each resource (everything but its name), shared by the API and the seed file.

These check types only; the service layer checks the rest (ranges, references, names) and raises
`InvalidConfig` naming the field, so the API and the seed loader report the same problems.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ProviderKind = Literal["openai", "anthropic", "openai_compatible", "scripted"]
ToolKind = Literal["calculator", "read_file"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProviderIn(_Input):
    kind: ProviderKind
    base_url: str | None = None
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    default_model: str | None = None


class ToolIn(_Input):
    kind: ToolKind
    description: str = ""
    parameters: dict[str, Any] | None = Field(
        default=None,
        description="JSON Schema of the arguments; omitted: the kind's own schema.",
    )
    config: dict[str, Any] = Field(default_factory=dict, description="Kind-specific settings.")
    timeout_s: float = 30.0
    retry_attempts: int = 3
    requires_approval: bool = False


class ToolCallIn(_Input):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptTurnIn(_Input):
    text: str = ""
    tool_calls: list[ToolCallIn] = Field(default_factory=list)


class AgentIn(_Input):
    description: str = ""
    provider: str
    model: str = Field(default="", description="Empty: the provider's default model.")
    system_prompt: str = ""
    tools: list[str] = Field(default_factory=list)
    max_steps: int = 10
    temperature: float | None = None
    script: list[ScriptTurnIn] = Field(
        default_factory=list, description="Turns of the offline scripted model, in order."
    )


class RouteIn(_Input):
    agent: str
    description: str = ""
