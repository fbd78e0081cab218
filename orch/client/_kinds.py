"""The config resources: their paths and the API's own models for their bodies and answers.

api/schemas.py imports the config store's models (SQLAlchemy, and Temporal's types through
workflows/types.py): about a second on a cold start, so it is imported on the first config call,
not with the SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import get_args

from pydantic import BaseModel

from orch.client.models import ConfigKind


@dataclass(frozen=True)
class Kind:
    name: ConfigKind
    path: str
    key: str  # the field that names one: "name", a route's "key"
    create: type[BaseModel]
    update: type[BaseModel]
    read: type[BaseModel]


KINDS: tuple[ConfigKind, ...] = get_args(ConfigKind)
# What apply() also takes for a kind: the plural, and the spelling of the API's paths.
_ALIASES = {
    "agents": "agent",
    "tools": "tool",
    "providers": "provider",
    "routes": "route",
    "mcp_servers": "mcp_server",
    "mcp-server": "mcp_server",
    "mcp-servers": "mcp_server",
}


def kind_name(kind: str) -> ConfigKind:
    name = _ALIASES.get(kind, kind)
    for known in KINDS:
        if known == name:
            return known
    raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")


@cache
def kind(name: ConfigKind) -> Kind:
    from api import schemas

    table = {
        "agent": Kind(
            "agent",
            "/v1/agents",
            "name",
            schemas.AgentCreate,
            schemas.AgentUpdate,
            schemas.AgentRead,
        ),
        "tool": Kind(
            "tool", "/v1/tools", "name", schemas.ToolCreate, schemas.ToolUpdate, schemas.ToolRead
        ),
        "provider": Kind(
            "provider",
            "/v1/providers",
            "name",
            schemas.ProviderCreate,
            schemas.ProviderUpdate,
            schemas.ProviderRead,
        ),
        "route": Kind(
            "route",
            "/v1/routes",
            "key",
            schemas.RouteCreate,
            schemas.RouteUpdate,
            schemas.RouteRead,
        ),
        "mcp_server": Kind(
            "mcp_server",
            "/v1/mcp-servers",
            "name",
            schemas.McpServerCreate,
            schemas.McpServerUpdate,
            schemas.McpServerRead,
        ),
    }
    return table[name]
