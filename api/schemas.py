"""Request and response bodies. Inputs reuse `config_store.specs` (extra fields are a 422)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from config_store.mcp_servers import McpServerIn
from config_store.models import AgentVersion, McpServer, Provider, Route, Tool
from config_store.specs import (
    AgentIn,
    ModelChoiceIn,
    ModelPriceIn,
    ProviderIn,
    RouteIn,
    ScriptTurnIn,
    ToolIn,
)
from workflows.kinds import ProviderKind, ToolKind

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"

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


class RouteCreate(RouteIn):
    key: str = Field(pattern=NAME_PATTERN)


class ProviderRead(BaseModel):
    name: str
    kind: ProviderKind
    base_url: str | None
    api_key_env: str | None
    default_model: str | None
    timeout_s: float
    headers: dict[str, str]
    prices: list[ModelPriceIn]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Provider) -> ProviderRead:
        return cls(
            name=row.name,
            kind=row.kind,
            base_url=row.base_url,
            api_key_env=row.api_key_env,
            default_model=row.default_model,
            timeout_s=row.timeout_s,
            headers=row.headers,
            prices=[ModelPriceIn.model_validate(price) for price in row.prices],
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class ToolRead(BaseModel):
    name: str
    kind: ToolKind
    description: str
    parameters: dict[str, Any]
    config: dict[str, Any]
    timeout_s: float
    retry_attempts: int
    requires_approval: bool
    max_result_chars: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Tool) -> ToolRead:
        return cls(
            name=row.name,
            kind=row.kind,
            description=row.description,
            parameters=row.parameters,
            config=row.config,
            timeout_s=row.timeout_s,
            retry_attempts=row.retry_attempts,
            requires_approval=row.requires_approval,
            max_result_chars=row.max_result_chars,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class AgentRead(BaseModel):
    """One version of an agent. `version` is this one; `current_version` the agent's current."""

    name: str
    description: str
    version: int
    current_version: int
    provider: str
    model: str
    system_prompt: str
    tools: list[str]
    max_steps: int
    temperature: float | None
    script: list[ScriptTurnIn]
    fallbacks: list[ModelChoiceIn]
    max_total_tokens: int | None
    max_cost_usd: float | None
    max_duration_s: float | None
    model_timeout_s: float
    model_max_attempts: int
    output_schema: dict[str, Any] | None
    max_output_repairs: int
    approval_timeout_s: float
    prompt_variables: list[str]
    on_tool_error: str
    created_at: datetime = Field(description="When this version was written.")
    updated_at: datetime = Field(description="When the agent last changed.")

    @classmethod
    def of(cls, row: AgentVersion) -> AgentRead:
        return cls(
            name=row.agent.name,
            description=row.agent.description,
            version=row.version,
            current_version=row.agent.current_version,
            provider=row.provider.name,
            model=row.model,
            system_prompt=row.system_prompt,
            tools=list(row.tool_names),
            max_steps=row.max_steps,
            temperature=row.temperature,
            script=[ScriptTurnIn.model_validate(turn) for turn in row.script],
            fallbacks=[ModelChoiceIn.model_validate(choice) for choice in row.fallbacks],
            max_total_tokens=row.max_total_tokens,
            max_cost_usd=row.max_cost_usd,
            max_duration_s=row.max_duration_s,
            model_timeout_s=row.model_timeout_s,
            model_max_attempts=row.model_max_attempts,
            output_schema=row.output_schema,
            max_output_repairs=row.max_output_repairs,
            approval_timeout_s=row.approval_timeout_s,
            prompt_variables=list(row.prompt_variables),
            on_tool_error=row.on_tool_error,
            created_at=row.created_at,
            updated_at=row.agent.updated_at,
        )


class RouteRead(BaseModel):
    key: str
    agent: str
    description: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Route) -> RouteRead:
        return cls(
            key=row.key,
            agent=row.agent.name,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


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


class McpServerRead(BaseModel):
    name: str
    transport: str
    command: str | None
    args: list[str]
    env: dict[str, str]
    url: str | None
    headers: dict[str, str]
    timeout_s: float
    discovered_at: datetime | None = Field(description="The last successful discovery.")
    discovery_error: str | None = Field(
        description="Why the last discovery failed or skipped tools; null when it went well."
    )
    tools: list[McpServerTool]
    discovery: McpDiscovery | None = Field(
        default=None, description="Set when this request discovered the server's tools."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls, row: McpServer, tools: list[Tool], discovery: McpDiscovery | None = None
    ) -> McpServerRead:
        return cls(
            name=row.name,
            transport=row.transport,
            command=row.command,
            args=list(row.args or ()),
            env=dict(row.env or {}),
            url=row.url,
            headers=dict(row.headers or {}),
            timeout_s=row.timeout_s,
            discovered_at=row.discovered_at,
            discovery_error=row.discovery_error,
            tools=[
                McpServerTool(
                    name=tool.name,
                    tool=str(tool.config.get("tool", "")),
                    description=tool.description,
                    stale=tool.config.get("stale") is True,
                )
                for tool in tools
            ],
            discovery=discovery,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
