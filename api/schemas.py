"""Request and response bodies. Inputs reuse `config_store.specs` (extra fields are a 422)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AliasGenerator,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)

from config_store.mcp_servers import McpServerIn
from config_store.models import Agent, Provider, Tool
from config_store.specs import AgentIn, ProviderIn, RouteIn, ToolIn
from config_store.validation import NAME_PATTERN

# What one run may carry: its input and variables travel to Temporal in the run's first event
# (whose blobs Temporal limits to 2 MB by default), and into the system prompt.
MAX_INPUT_CHARS = 256_000
MAX_VARIABLES_CHARS = 64_000


def _variables_size(value: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(value, ensure_ascii=False, default=str))
    if size > MAX_VARIABLES_CHARS:
        raise ValueError(
            f"the variables are {size} characters as JSON, over the limit of {MAX_VARIABLES_CHARS}"
        )
    return value


RunInputText = Annotated[
    str, Field(min_length=1, max_length=MAX_INPUT_CHARS, description="the user's message")
]
RunVariables = Annotated[dict[str, Any], AfterValidator(_variables_size)]

# Update bodies: the whole definition but the name (PUT replaces).
ProviderUpdate = ProviderIn
ToolUpdate = ToolIn
AgentUpdate = AgentIn
RouteUpdate = RouteIn


class ProviderCreate(ProviderIn):
    name: str = Field(pattern=NAME_PATTERN)


class ToolCreate(ToolIn):
    name: str = Field(pattern=NAME_PATTERN)


class AgentCreate(AgentIn):
    name: str = Field(pattern=NAME_PATTERN)


class AgentRollback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="The version to make current again (as a new one).")


class RouteCreate(RouteIn):
    key: str = Field(pattern=NAME_PATTERN)


class _Read(BaseModel):
    """A response body: an input shape plus what the server adds.

    Listed after the input shape among the bases, so that its config wins (every field is in
    the answer: required in the schema, defaults or not) and its fields come first.
    """

    model_config = ConfigDict(
        extra="ignore", json_schema_serialization_defaults_required=True, validate_by_name=True
    )


class _ReadRow(_Read):
    @classmethod
    def of(cls, row: object) -> Self:
        """From the row's attributes of the fields' names (`from_attributes`)."""
        return cls.model_validate(row, from_attributes=True)


class _Named(_ReadRow):
    name: str


def _name_of(value: object) -> object:
    """A related row (an agent version's provider, a route's agent) is shown by its name."""
    return value.name if isinstance(value, Agent | Provider) else value


class ProviderRead(ProviderIn, _Named):
    created_at: datetime
    updated_at: datetime


class ToolRead(ToolIn, _Named):
    # Never null once saved: the kind's own schema when the input left it out.
    parameters: dict[str, Any]
    # Never null once saved either: the kind's default when the input left it out.
    idempotent: bool
    created_at: datetime
    updated_at: datetime


# What a version shows of its agent (not versioned): read through the row's `agent`.
_OF_THE_AGENT = frozenset({"name", "description", "current_version", "updated_at"})


def _agent_attribute(field: str) -> str | AliasPath:
    return AliasPath("agent", field) if field in _OF_THE_AGENT else field


class _VersionOf(_ReadRow):
    """Whose version it is, first in the answer; `description` is AgentIn's field, read (as
    the others of `_OF_THE_AGENT`) from the agent's row."""

    model_config = ConfigDict(alias_generator=AliasGenerator(validation_alias=_agent_attribute))

    name: str
    description: str
    version: int
    current_version: int


class AgentRead(AgentIn, _VersionOf):
    """One version of an agent. `version` is this one; `current_version` the agent's current."""

    created_at: datetime = Field(description="When this version was written.")
    updated_at: datetime = Field(description="When the agent last changed.")

    @field_validator("provider", mode="before")
    @classmethod
    def _provider_name(cls, value: object) -> object:
        return _name_of(value)


class _Keyed(_ReadRow):
    key: str


class RouteRead(RouteIn, _Keyed):
    created_at: datetime
    updated_at: datetime

    @field_validator("agent", mode="before")
    @classmethod
    def _agent_name(cls, value: object) -> object:
        return _name_of(value)


McpServerUpdate = McpServerIn


class McpServerCreate(McpServerIn):
    name: str = Field(pattern=NAME_PATTERN)


class McpServerTool(BaseModel):
    name: str = Field(description="The tool's name in /v1/tools: <server>__<tool>.")
    tool: str = Field(description="Its name on the MCP server.")
    description: str
    stale: bool = Field(
        description="No longer listed by the server; kept because an agent uses it."
    )


class McpDiscovery(BaseModel):
    """What the discovery made in this request did to /v1/tools, by tool name."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    stale: list[str]
    skipped: list[str]


def _discovery_optional(schema: dict[str, Any]) -> None:
    """`discovery` stays out of the schema's required fields: it is set only after a discovery."""
    required = schema.get("required")
    if isinstance(required, list):
        required.remove("discovery")


class McpServerRead(McpServerIn, _Named):
    model_config = ConfigDict(json_schema_extra=_discovery_optional)

    discovered_at: datetime | None = Field(description="The last successful discovery.")
    discovery_error: str | None = Field(
        description="Why the last discovery failed or skipped tools; null when it went well."
    )
    tools: list[McpServerTool] = Field(default_factory=list)
    discovery: McpDiscovery | None = Field(
        default=None, description="Set when this request discovered the server's tools."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, row: object, tools: Sequence[Tool] = (), discovery: McpDiscovery | None = None
    ) -> Self:
        """From the server's row, with its tools and what this request discovered."""
        read = cls.model_validate(row, from_attributes=True)
        read.tools = [
            McpServerTool(
                name=tool.name,
                tool=str(tool.config.get("tool", "")),
                description=tool.description,
                stale=tool.config.get("stale") is True,
            )
            for tool in tools
        ]
        read.discovery = discovery
        return read
