"""Tools an agent may call. Not versioned: a run snapshots the tool as it is when it starts."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from activities.tools.base import ToolConfigError
from activities.tools.registry import TOOL_KINDS as BUILTIN_KINDS
from config_store.models import TOOL_KINDS, Agent, AgentVersion, Tool
from config_store.rows import NamedResource, copy_fields
from config_store.specs import ToolIn
from config_store.validation import check_choice, check_json_schema, check_name, check_range
from orch.errors import Conflict, InvalidConfig


def check_tool_name(name: str) -> None:
    check_name(name)
    if "." in name:
        # OpenAI and Anthropic accept only [a-zA-Z0-9_-] in function names.
        raise InvalidConfig("name", "tool names may not contain '.': model providers reject it")


def _with_defaults(spec: ToolIn) -> ToolIn:
    """A tool that does not describe its arguments (or itself) gets its kind's description."""
    kind = BUILTIN_KINDS.get(spec.kind)
    if kind is None:
        return spec
    update: dict[str, Any] = {}
    if spec.parameters is None:
        update["parameters"] = copy.deepcopy(dict(kind.parameters))
    if not spec.description:
        update["description"] = kind.description
    return spec.model_copy(update=update)


def _validate(spec: ToolIn) -> None:
    check_choice(spec.kind, TOOL_KINDS, "kind")
    if spec.parameters is not None:
        check_json_schema(spec.parameters, "parameters")
    check_range(spec.timeout_s, "timeout_s", 0.001, 86400)
    check_range(spec.retry_attempts, "retry_attempts", 1, 100, integer=True)
    check_range(spec.max_result_chars, "max_result_chars", 100, 1_000_000, integer=True)
    kind = BUILTIN_KINDS.get(spec.kind)
    if kind is not None:
        try:
            kind.check_config(spec.config)
        except ToolConfigError as err:
            raise InvalidConfig(f"config.{err.field}", err.message) from err


def _apply(row: Tool, spec: ToolIn) -> bool:
    return copy_fields(row, _with_defaults(spec).model_dump())


_TOOLS: NamedResource[Tool, ToolIn] = NamedResource(
    lambda name: Tool(name=name),
    Tool.name,
    "tool",
    "a tool",
    check_name=check_tool_name,
    validate=_validate,
    apply=_apply,
)
find_tool = _TOOLS.find
get_tool = _TOOLS.get
list_tools = _TOOLS.list
create_tool = _TOOLS.create
update_tool = _TOOLS.update
upsert_tool = _TOOLS.upsert


def agents_using_tool(session: Session, name: str) -> list[str]:
    """Agents whose *current* version lists the tool."""
    rows = session.execute(
        select(Agent.name, AgentVersion.tool_names)
        .join(AgentVersion, AgentVersion.agent_id == Agent.id)
        .where(AgentVersion.version == Agent.current_version)
        .order_by(Agent.name)
    )
    return [agent for agent, tool_names in rows if name in tool_names]


def delete_tool(session: Session, name: str) -> None:
    row = get_tool(session, name)
    users = agents_using_tool(session, name)
    if users:
        raise Conflict(f"tool {name!r} is used by agents {', '.join(users)}; it cannot be deleted")
    session.delete(row)
    session.flush()
