"""Input shapes of each resource (everything but its name), shared by the API and the seed file.

These check types only; the service layer checks the rest (ranges, references, names) and raises
`InvalidConfig` naming the field, so the API and the seed loader report the same problems.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workflows.kinds import OnToolError, OnUnknownOutcome, ProviderKind, ToolKind

# What a run does when a tool fails after its retries (AgentIn.on_tool_error).


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelPriceIn(_Input):
    model: str
    input_usd_per_mtok: float = Field(description="USD per million input (prompt) tokens.")
    output_usd_per_mtok: float = Field(description="USD per million output tokens.")
    cached_input_usd_per_mtok: float | None = Field(
        default=None, description="USD per million cached prompt tokens; omitted: the input price."
    )


class ProviderIn(_Input):
    kind: ProviderKind
    base_url: str | None = None
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    default_model: str | None = None
    timeout_s: float = Field(default=60.0, description="Timeout of one HTTP request (0-600 s].")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra request headers; a value may reference env vars as ${VAR}.",
    )
    prices: list[ModelPriceIn] = Field(
        default_factory=list, description="Price table, one entry per model."
    )


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
    max_result_chars: int = Field(
        default=20_000,
        description="Results longer than this are cut, with a marker (100-1000000 characters).",
    )
    idempotent: bool | None = Field(
        default=None,
        description="Whether a call may run again after a worker stopped during it. false: a "
        "retry reports the outcome as unknown (error_type outcome_unknown) instead of calling "
        "again. Omitted: the kind's default (reads and GET/HEAD true, other methods false).",
    )
    on_unknown_outcome: OnUnknownOutcome = Field(
        default="report",
        description="For a tool that is not idempotent, when a call's outcome is unknown: "
        "report it to the model (outcome_unknown), or ask a person to approve calling again "
        "(the agent's approval_timeout_s; rejected or expired: reported).",
    )


class ToolCallIn(_Input):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ScriptTurnIn(_Input):
    text: str = ""
    tool_calls: list[ToolCallIn] = Field(default_factory=list)


class ModelChoiceIn(_Input):
    provider: str
    model: str = Field(default="", description="Empty: that provider's default model.")


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
    fallbacks: list[ModelChoiceIn] = Field(
        default_factory=list, description="Models to fail over to, in order."
    )
    max_total_tokens: int | None = Field(default=None, description="Token budget of a run.")
    max_cost_usd: float | None = Field(default=None, description="Cost budget of a run, USD.")
    max_duration_s: float | None = Field(default=None, description="Wall-clock budget of a run.")
    model_timeout_s: float = Field(
        default=60.0, description="Start-to-close timeout of one model call attempt (1-3600 s)."
    )
    model_max_attempts: int = Field(
        default=10, description="Attempts per model call and model, before failing over (1-100)."
    )
    output_schema: dict[str, Any] | None = Field(
        default=None, description="JSON Schema (2020-12) the final answer must conform to."
    )
    max_output_repairs: int = Field(
        default=2, description="Times an answer that breaks output_schema is sent back (0-10)."
    )
    approval_timeout_s: float = Field(
        default=3600.0,
        description="How long a tool call that requires approval waits for a person before it "
        "is rejected (1-604800 s).",
    )
    prompt_variables: list[str] = Field(
        default_factory=list,
        description="Names of the caller-supplied variables the system prompt may use.",
    )
    on_tool_error: OnToolError = Field(
        default="continue",
        description="When a tool fails (after its retries): give the model the error and go on, "
        "or fail the run. Invalid arguments always go back to the model.",
    )


class RouteIn(_Input):
    agent: str
    description: str = ""
