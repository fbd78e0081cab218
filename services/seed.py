"""Load providers, tools, agents and routes from a YAML/dict document, all or nothing.

    providers: [{name, kind, base_url?, api_key_env?, default_model?, timeout_s?, headers?,
                 prices?}]
    mcp_servers: [{name, transport, command?, args?, env?, url?, headers?, timeout_s?}]
    tools:     [{name, kind, description?, parameters?, config?, timeout_s?, ...}]
    agents:    [{name, provider, model?, system_prompt?, prompt_variables?, tools?, max_steps?,
                 fallbacks?, max_total_tokens?, ..., output_schema?, ...}]
    routes:    [{key, agent, description?}]

The fields are those of `config_store.specs` (MCP servers: `config_store.mcp_servers`).

Each MCP server is discovered as it is loaded (before the tools and agents, which may use its
tools), best effort: a server that cannot be reached is saved with its `discovery_error`, its
tools stay as they were, and the report's `warnings` say so.

Existing resources are updated in place (agents get a new version only when their content
changed); nothing is deleted, but the tools an MCP server no longer offers (and no agent uses).
Errors name the path of the offending field (`agents[0].provider`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from config_store.agents import upsert_agent
from config_store.mcp_servers import McpServerIn, upsert_server
from config_store.models import Agent, McpServer, Provider, Route, Tool
from config_store.providers import upsert_provider
from config_store.routes import upsert_route
from config_store.rows import Outcome
from config_store.specs import AgentIn, ProviderIn, RouteIn, ToolIn
from core.errors import InvalidConfig
from services.mcp import discover_in
from services.tools import upsert_tool

SECTIONS = ("providers", "mcp_servers", "tools", "agents", "routes")

M = TypeVar("M", bound=BaseModel)


@dataclass
class SeedReport:
    """What a load did, as "section/name" items (agents as "agents/name@vN")."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. an MCP server that is down

    def add(self, outcome: Outcome, item: str) -> None:
        {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}[
            outcome
        ].append(item)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _parse(model: type[M], entry: dict[str, Any], path: str) -> M:
    try:
        return model.model_validate(entry)
    except ValidationError as e:
        first = e.errors()[0]
        where = _loc(tuple(first["loc"]))
        raise InvalidConfig(f"{path}.{where}" if where else path, first["msg"]) from None


def _entries(data: Mapping[str, Any], section: str) -> list[dict[str, Any]]:
    entries = data.get(section) or []
    if not isinstance(entries, list):
        raise InvalidConfig(section, "must be a list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidConfig(f"{section}[{i}]", "must be a mapping")
    return entries


def _each(
    data: Mapping[str, Any],
    section: str,
    id_key: str,
    model: type[M],
    apply: Callable[[str, M], None],
) -> None:
    for i, raw in enumerate(_entries(data, section)):
        path = f"{section}[{i}]"
        entry = dict(raw)
        ident = entry.pop(id_key, None)
        if not isinstance(ident, str) or not ident:
            raise InvalidConfig(f"{path}.{id_key}", "required")
        spec = _parse(model, entry, path)
        try:
            apply(ident, spec)
        except InvalidConfig as e:
            field_path = e.field if e.field.startswith("[") else "." + e.field
            raise InvalidConfig(f"{path}{field_path}", e.problem) from None


def load_config(
    session: Session, data: Mapping[str, Any], *, env: Mapping[str, str] | None = None
) -> SeedReport:
    """Upsert everything in `data` within the caller's transaction (the caller commits).

    On any error nothing should be committed: the caller rolls back (see `load_config_file`).
    `env` resolves `${VAR}` in MCP server settings for discovery (default: os.environ).
    """
    if not isinstance(data, Mapping):
        raise InvalidConfig("(root)", "must be a mapping with providers, tools, agents, routes")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise InvalidConfig(unknown[0], f"unknown section; expected one of {', '.join(SECTIONS)}")
    report = SeedReport()

    def provider(name: str, spec: ProviderIn) -> None:
        report.add(upsert_provider(session, name, spec), f"providers/{name}")

    def mcp_server(name: str, spec: McpServerIn) -> None:
        report.add(upsert_server(session, name, spec), f"mcp_servers/{name}")
        _discover(session, name, os.environ if env is None else env, report)

    def tool(name: str, spec: ToolIn) -> None:
        report.add(upsert_tool(session, name, spec), f"tools/{name}")

    def agent(name: str, spec: AgentIn) -> None:
        outcome, version = upsert_agent(session, name, spec)
        report.add(outcome, f"agents/{name}@v{version}")

    def route(key: str, spec: RouteIn) -> None:
        report.add(upsert_route(session, key, spec), f"routes/{key}")

    _each(data, "providers", "name", ProviderIn, provider)
    _each(data, "mcp_servers", "name", McpServerIn, mcp_server)
    _each(data, "tools", "name", ToolIn, tool)
    _each(data, "agents", "name", AgentIn, agent)
    _each(data, "routes", "key", RouteIn, route)
    return report


def _discover(session: Session, name: str, env: Mapping[str, str], report: SeedReport) -> None:
    """List the server's tools and store them; a failure is a warning, not an error."""
    found = discover_in(session, name, env)
    if not found.listed:
        report.warnings.append(
            f"mcp_servers/{name}: not discovered, its tools are unchanged: {found.error}"
        )
        return
    changes = found.changes
    report.created.extend(f"tools/{tool}" for tool in changes.created)
    report.updated.extend(f"tools/{tool}" for tool in changes.updated)
    report.unchanged.extend(f"tools/{tool}" for tool in changes.unchanged)
    report.warnings.extend(f"mcp_servers/{name}: tool {item}" for item in changes.skipped)
    report.warnings.extend(
        f"tools/{tool}: removed, MCP server {name!r} no longer offers it"
        for tool in changes.removed
    )
    report.warnings.extend(
        f"tools/{tool}: no longer offered by MCP server {name!r}, kept: an agent uses it"
        for tool in changes.stale
    )


def read_config_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidConfig(str(path), f"cannot read: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise InvalidConfig(str(path), f"not valid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidConfig(str(path), "must be a mapping with providers, tools, agents, routes")
    return data


def is_empty(session_factory: sessionmaker[Session]) -> bool:
    """True when no provider, tool, agent or route exists yet (a fresh database)."""
    with session_factory() as session:
        return not any(
            session.scalar(select(exists().select_from(model)))
            for model in (Provider, McpServer, Tool, Agent, Route)
        )


def load_config_file(session_factory: sessionmaker[Session], path: str | Path) -> SeedReport:
    """Read a YAML file and load it in one transaction: committed whole, or not at all."""
    data = read_config_file(path)
    with session_factory.begin() as session:
        return load_config(session, data)
