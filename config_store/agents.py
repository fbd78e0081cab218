"""Agents and their immutable versions.

An agent row holds what is not versioned (name, description) and points at its current version.
Creating an agent writes version 1; an update that changes the content writes version n+1 and
moves `current_version`; an update with identical content writes nothing new.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config_store.mcp_servers import MCP_KIND, with_server_spec
from config_store.models import Agent, AgentVersion, Provider, Route
from config_store.providers import find_provider
from config_store.rows import Outcome, from_row
from config_store.snapshot import provider_spec, script_turns, tool_spec
from config_store.specs import AgentIn
from config_store.tools import find_tool
from config_store.validation import check_above, check_json_schema, check_name, check_range
from core.errors import Conflict, InvalidConfig, NotFound
from core.prompts import check_template, check_variable_names
from workflows.kinds import ToolKind
from workflows.types import AgentSpec, ModelChoice, ToolSpec

MAX_STEPS_LIMIT = 1000
SUBAGENT_KIND: ToolKind = "agent"
MAX_APPROVAL_TIMEOUT_S = 7 * 24 * 3600  # a week

# The AgentIn fields that are not AgentVersion columns copied as `model_dump()` gives them: the
# description is the agent's (not versioned); the provider is stored as its id, the script and
# fallbacks as checked below. Every other field is its column (tests/config_store/test_shapes.py).
AGENT_ONLY_FIELDS = frozenset({"description"})
CONVERTED_FIELDS = frozenset({"provider", "script", "fallbacks"})


def _fallbacks(session: Session, spec: AgentIn, primary: Provider) -> list[dict[str, str]]:
    """Each fallback names an existing provider and a model (or its provider has a default)."""
    tried = {(primary.name, spec.model or primary.default_model)}
    out = []
    for i, choice in enumerate(spec.fallbacks):
        provider = find_provider(session, choice.provider)
        if provider is None:
            raise InvalidConfig(
                f"fallbacks[{i}].provider", f"no provider named {choice.provider!r}"
            )
        model = choice.model or provider.default_model
        if not model:
            raise InvalidConfig(
                f"fallbacks[{i}].model",
                f"empty, and provider {provider.name!r} has no default_model to fall back on",
            )
        if (provider.name, model) in tried:
            raise InvalidConfig(
                f"fallbacks[{i}]", f"model {model!r} of provider {provider.name!r} is tried before"
            )
        tried.add((provider.name, model))
        out.append({"provider": provider.name, "model": choice.model})
    return out


def _check_limits(spec: AgentIn) -> None:
    """Budgets, model calls, structured output, approvals."""
    check_above(spec.max_total_tokens, "max_total_tokens", 0, integer=True)
    check_above(spec.max_cost_usd, "max_cost_usd", 0.0)
    check_above(spec.max_duration_s, "max_duration_s", 0.0)
    check_range(spec.model_timeout_s, "model_timeout_s", 1, 3600)
    check_range(spec.model_max_attempts, "model_max_attempts", 1, 100, integer=True)
    if spec.output_schema is not None:
        check_json_schema(spec.output_schema, "output_schema", object_only=False)
    check_range(spec.max_output_repairs, "max_output_repairs", 0, 10, integer=True)
    check_range(spec.approval_timeout_s, "approval_timeout_s", 1, MAX_APPROVAL_TIMEOUT_S)


def _content(session: Session, spec: AgentIn) -> dict[str, Any]:
    """Validate `spec` and turn it into the column values of a version."""
    provider = find_provider(session, spec.provider)
    if provider is None:
        raise InvalidConfig("provider", f"no provider named {spec.provider!r}")
    if not spec.model and not provider.default_model:
        raise InvalidConfig(
            "model", f"empty, and provider {provider.name!r} has no default_model to fall back on"
        )
    seen: set[str] = set()
    for i, tool_name in enumerate(spec.tools):
        if tool_name in seen:
            raise InvalidConfig(f"tools[{i}]", f"tool {tool_name!r} is listed twice")
        seen.add(tool_name)
        if find_tool(session, tool_name) is None:
            raise InvalidConfig(f"tools[{i}]", f"no tool named {tool_name!r}")
    check_range(spec.max_steps, "max_steps", 1, MAX_STEPS_LIMIT, integer=True)
    check_range(spec.temperature, "temperature", 0.0, 2.0)
    for t, turn in enumerate(spec.script):
        for i, call in enumerate(turn.tool_calls):
            if not call.name:
                raise InvalidConfig(f"script[{t}].tool_calls[{i}].name", "must not be empty")
    fallbacks = _fallbacks(session, spec, provider)
    _check_limits(spec)
    check_variable_names(spec.prompt_variables)
    check_template(spec.system_prompt, spec.prompt_variables)
    return {
        **spec.model_dump(exclude=set(AGENT_ONLY_FIELDS | CONVERTED_FIELDS)),
        "provider_id": provider.id,
        # Stored without the ids a call leaves out (they are given when a run starts).
        "script": [turn.model_dump(exclude_none=True) for turn in spec.script],
        "fallbacks": fallbacks,
    }


def _same_content(version: AgentVersion, content: dict[str, Any]) -> bool:
    """Compared as JSON text, so that `true` and `1` (or a reordered schema) differ."""
    stored = {key: getattr(version, key) for key in content}
    return json.dumps(stored) == json.dumps(content)


def find_agent(session: Session, name: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.name == name))


def _get_agent_row(session: Session, name: str) -> Agent:
    agent = find_agent(session, name)
    if agent is None:
        raise NotFound(f"no agent named {name!r}")
    return agent


def get_agent(session: Session, name: str, version: int | None = None) -> AgentVersion:
    """One version of an agent (the current one by default)."""
    agent = _get_agent_row(session, name)
    wanted = agent.current_version if version is None else version
    row = session.scalar(
        select(AgentVersion).where(
            AgentVersion.agent_id == agent.id, AgentVersion.version == wanted
        )
    )
    if row is None:
        raise NotFound(f"agent {name!r} has no version {wanted}")
    return row


def list_agents(session: Session) -> list[AgentVersion]:
    """The current version of every agent, by name."""
    stmt = (
        select(AgentVersion)
        .join(Agent, AgentVersion.agent_id == Agent.id)
        .where(AgentVersion.version == Agent.current_version)
        .order_by(Agent.name)
    )
    return list(session.scalars(stmt))


def list_versions(session: Session, name: str) -> list[AgentVersion]:
    agent = _get_agent_row(session, name)
    stmt = (
        select(AgentVersion).where(AgentVersion.agent_id == agent.id).order_by(AgentVersion.version)
    )
    return list(session.scalars(stmt))


def _flush(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError as e:  # a concurrent create or update got there first
        raise Conflict(f"agent {name!r} was changed concurrently; retry") from e


def create_agent(session: Session, name: str, spec: AgentIn) -> AgentVersion:
    check_name(name)
    content = _content(session, spec)
    if find_agent(session, name) is not None:
        raise Conflict(f"an agent named {name!r} already exists")
    agent = Agent(name=name, description=spec.description, current_version=1)
    version = AgentVersion(agent=agent, version=1, **content)
    session.add_all([agent, version])
    _flush(session, name)
    return version


def _update(session: Session, name: str, spec: AgentIn) -> tuple[AgentVersion, bool]:
    agent = _get_agent_row(session, name)
    content = _content(session, spec)
    current = get_agent(session, name)
    if agent.description != spec.description:
        agent.description = spec.description
    if _same_content(current, content):
        _flush(session, name)
        return current, False
    return _new_version(session, agent, content), True


def _new_version(session: Session, agent: Agent, content: dict[str, Any]) -> AgentVersion:
    """Write `content` as the agent's next version and make it the current one."""
    last = session.scalar(
        select(func.max(AgentVersion.version)).where(AgentVersion.agent_id == agent.id)
    )
    number = (last or 0) + 1
    version = AgentVersion(agent=agent, version=number, **content)
    agent.current_version = number
    session.add(version)
    _flush(session, agent.name)
    return version


def version_input(row: AgentVersion) -> AgentIn:
    """What one stored version was written from (its agent's description as it is now)."""
    values = {
        field: copy.deepcopy(getattr(row, field))
        for field in AgentIn.model_fields
        if field not in AGENT_ONLY_FIELDS and field != "provider"
    }
    return AgentIn.model_validate(
        {**values, "description": row.agent.description, "provider": row.provider.name}
    )


def rollback_agent(session: Session, name: str, version: int) -> AgentVersion:
    """Write a new version equal to version `version` (checked again, as any update is: a tool
    or provider it names may have gone since) and make it the current one."""
    old = get_agent(session, name, version)
    content = _content(session, version_input(old))
    return _new_version(session, old.agent, content)


def update_agent(session: Session, name: str, spec: AgentIn) -> AgentVersion:
    """Write a new version if the content changed; return the (possibly unchanged) current one."""
    return _update(session, name, spec)[0]


def upsert_agent(session: Session, name: str, spec: AgentIn) -> tuple[Outcome, int]:
    """Create or update; returns what happened and the current version number."""
    if find_agent(session, name) is None:
        return "created", create_agent(session, name, spec).version
    version, changed = _update(session, name, spec)
    return ("updated" if changed else "unchanged"), version.version


def delete_agent(session: Session, name: str) -> None:
    """Delete an agent and all its versions. Runs keep their record (by name and version)."""
    agent = _get_agent_row(session, name)
    keys = list(session.scalars(select(Route.key).where(Route.agent_id == agent.id)))
    if keys:
        raise Conflict(
            f"agent {name!r} is the target of routes {', '.join(keys)}; delete them first"
        )
    session.delete(agent)
    session.flush()


def snapshot_agent(session: Session, name: str, version: int | None = None) -> AgentSpec:
    """The immutable snapshot a run starts from (current version unless `version` is given).

    Providers (the primary and the fallbacks' ones) and tools are resolved as they are now.
    Raises NotFound for an unknown agent or version, InvalidConfig if a tool it lists was deleted
    or no model can be chosen.
    """
    row = get_agent(session, name, version)
    provider = provider_spec(row.provider)
    tools = []
    for i, tool_name in enumerate(row.tools):
        tool = find_tool(session, tool_name)
        if tool is None:
            raise InvalidConfig(f"tools[{i}]", f"tool {tool_name!r} no longer exists")
        spec = tool_spec(tool)
        if spec.kind == SUBAGENT_KIND:
            spec = _pin_subagent(session, spec, f"tools[{i}]")
        elif spec.kind == MCP_KIND:
            spec = with_server_spec(session, spec, f"tools[{i}]")
        tools.append(spec)
    model = row.model or provider.default_model
    if not model:
        raise InvalidConfig("model", f"empty, and provider {provider.name!r} has no default_model")
    # The other fields (version, system_prompt, the limits...) are the columns as stored.
    return from_row(
        AgentSpec,
        row,
        name=row.agent.name,
        provider=provider,
        model=model,
        tools=tuple(tools),
        script=script_turns(row.script),
        fallbacks=_model_choices(session, row.fallbacks),
        output_schema=copy.deepcopy(row.output_schema),
        prompt_variables=tuple(row.prompt_variables),
    )


def _pin_subagent(session: Session, spec: ToolSpec, field: str) -> ToolSpec:
    """An agent tool calls the version of its agent that is current when the parent starts."""
    name = str(spec.config.get("agent", ""))
    agent = session.scalar(select(Agent).where(Agent.name == name))
    if agent is None:
        raise InvalidConfig(field, f"tool {spec.name!r} calls agent {name!r}, which does not exist")
    return replace(spec, config={**spec.config, "version": agent.current_version})


def _model_choices(session: Session, fallbacks: list[dict[str, str]]) -> tuple[ModelChoice, ...]:
    """Stored fallbacks resolved against the providers as they are now."""
    choices = []
    for i, stored in enumerate(fallbacks):
        row = find_provider(session, stored["provider"])
        if row is None:
            raise InvalidConfig(
                f"fallbacks[{i}].provider", f"provider {stored['provider']!r} no longer exists"
            )
        model = stored.get("model") or row.default_model
        if not model:
            raise InvalidConfig(
                f"fallbacks[{i}].model", f"empty, and provider {row.name!r} has no default_model"
            )
        choices.append(ModelChoice(provider=provider_spec(row), model=model))
    return tuple(choices)
