"""Each resource's fields are written once, in its input shape (config_store/specs.py); the
SQL columns and the snapshot follow them (tests/api/test_read_models.py: the API's answers).
Where two lists must stay apart (the columns and the pydantic fields), these fail on a drift."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, get_args

import pytest
from pydantic import BaseModel
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from config_store import agents, providers
from config_store.mcp_servers import McpServerIn
from config_store.models import Agent, AgentVersion, Base, McpServer, Provider, Route, Tool
from config_store.specs import AgentIn, ProviderIn, RouteIn, ToolIn
from workflows.kinds import MCP_TRANSPORTS, PROVIDER_KINDS, TOOL_KINDS
from workflows.types import AgentSpec, ProviderSpec, ToolSpec

# Columns no input sets: keys, the name, what the server keeps.
_SERVER_COLUMNS = {"id", "name", "created_at", "updated_at"}


def _columns(model: type[Base]) -> set[str]:
    return {attr.key for attr in inspect(model).column_attrs}


def _relationships(model: type[Base]) -> set[str]:
    return {rel.key for rel in inspect(model).relationships}


@pytest.mark.parametrize(
    ("shape", "model", "server_columns"),
    [
        (ProviderIn, Provider, _SERVER_COLUMNS),
        (ToolIn, Tool, _SERVER_COLUMNS),
        (McpServerIn, McpServer, _SERVER_COLUMNS | {"discovered_at", "discovery_error"}),
    ],
)
def test_a_resources_columns_are_its_input_fields(
    shape: type[BaseModel], model: type[Base], server_columns: set[str]
) -> None:
    """`copy_fields(row, spec.model_dump())` writes every column, and nothing else."""
    assert set(shape.model_fields) == _columns(model) - server_columns


def test_an_agent_versions_columns_are_the_agents_input_fields() -> None:
    """Every AgentIn field is a column of AgentVersion, or is listed as kept elsewhere (the
    agent's description) or converted (the provider, stored by id); every content column
    is written from an AgentIn field."""
    written = set(AgentIn.model_fields) - agents.AGENT_ONLY_FIELDS
    columns = _columns(AgentVersion) | _relationships(AgentVersion)
    assert written - columns == set(), "AgentIn fields with no column"
    own = {"id", "agent_id", "version", "created_at", "provider_id", "agent"}
    assert columns - own - written == set(), "AgentVersion columns no AgentIn field writes"
    assert agents.AGENT_ONLY_FIELDS <= _columns(Agent)


def test_a_route_is_its_input_fields() -> None:
    assert set(RouteIn.model_fields) == (_columns(Route) | _relationships(Route)) - {
        "id",
        "key",
        "agent_id",
        "created_at",
        "updated_at",
    }


def test_every_snapshot_field_is_produced_from_the_row() -> None:
    """The fields the snapshots copy as they are (`from_row`) must be attributes of the row:
    a field added to a boundary type without a column (or a conversion) fails here."""
    for spec, model in ((ProviderSpec, Provider), (ToolSpec, Tool)):
        missing = {f.name for f in fields(spec)} - _columns(model)
        assert missing <= {"headers", "prices", "parameters", "config"}, (spec, missing)
    converted = {"name", "provider", "tools", "script", "fallbacks"}
    missing = {f.name for f in fields(AgentSpec)} - _columns(AgentVersion) - converted
    assert missing == set()


def test_the_kinds_are_the_check_constraints_values() -> None:
    def check(model: type[Base]) -> str:
        (constraint,) = [c for c in model.__table__.constraints if c.name and "ck" in c.name]
        return str(getattr(constraint, "sqltext", ""))

    for model, values in ((Provider, PROVIDER_KINDS), (Tool, TOOL_KINDS)):
        assert all(repr(value) in check(model) for value in values)
    assert all(repr(value) in check(McpServer) for value in MCP_TRANSPORTS)
    assert get_args(AgentIn.model_fields["on_tool_error"].annotation) == ("continue", "fail")


# --- round trips: every input field comes back as it went in --------------------------------

AGENT: dict[str, Any] = {
    "description": "adds up",
    "provider": "p",
    "model": "m1",
    "system_prompt": "hello {{who}}",
    "tools": ["calc", "read"],
    "max_steps": 7,
    "temperature": 0.5,
    "script": [{"text": "t", "tool_calls": [{"name": "calc", "arguments": {"x": 1}}]}],
    "fallbacks": [{"provider": "q", "model": "m2"}],
    "max_total_tokens": 1000,
    "max_cost_usd": 0.5,
    "max_duration_s": 30.0,
    "model_timeout_s": 20.0,
    "model_max_attempts": 4,
    "output_schema": {"type": "object"},
    "max_output_repairs": 1,
    "approval_timeout_s": 60.0,
    "prompt_variables": ["who"],
    "on_tool_error": "fail",
}


def test_every_agent_field_set_is_stored_and_snapshotted(basics: Session) -> None:
    """A field that is not stored or snapshotted fails here (each value differs from its
    default)."""
    s = basics
    providers.create_provider(s, "q", ProviderIn(kind="scripted", default_model="m-q"))
    spec = AgentIn.model_validate(AGENT)
    defaults = {
        key: info.get_default(call_default_factory=True)
        for key, info in AgentIn.model_fields.items()
    }
    assert {key for key, value in spec if value == defaults[key]} == set()
    row = agents.create_agent(s, "a", spec)
    s.commit()
    assert agents.update_agent(s, "a", spec).version == 1  # the same content: no new version

    snap = agents.snapshot_agent(s, "a")
    assert snap.name == "a" and snap.version == row.version
    assert snap.provider.name == "p" and [t.name for t in snap.tools] == ["calc", "read"]
    assert [(c.provider.name, c.model) for c in snap.fallbacks] == [("q", "m2")]
    assert [call.name for turn in snap.script for call in turn.tool_calls] == ["calc"]
    for f in fields(AgentSpec):
        if f.name in {"name", "provider", "tools", "fallbacks", "script"}:
            continue
        value = getattr(snap, f.name)
        expected = AGENT[f.name] if f.name in AGENT else getattr(row, f.name)
        assert (list(value) if isinstance(value, tuple) else value) == expected, f.name
    for key in set(AgentIn.model_fields) - agents.AGENT_ONLY_FIELDS - agents.CONVERTED_FIELDS:
        assert getattr(row, key) == AGENT[key], key
