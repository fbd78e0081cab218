"""Tools an agent may call. Not versioned: a run snapshots the tool as it is when it starts.

What every tool shares is checked here; a kind's own settings and defaults are checked by
services/tools.py (the kinds' implementations live in activities/tools/), which the API and the
seed file save through.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config_store.models import Agent, AgentVersion, Tool
from config_store.rows import NamedResource, copy_fields
from config_store.specs import ToolIn
from config_store.validation import check_choice, check_json_schema, check_name, check_range
from core.errors import Conflict, InvalidConfig
from workflows.kinds import TOOL_KINDS


def check_tool_name(name: str) -> None:
    check_name(name)
    if "." in name:
        # OpenAI and Anthropic accept only [a-zA-Z0-9_-] in function names.
        raise InvalidConfig("name", "tool names may not contain '.': model providers reject it")


def _validate(spec: ToolIn) -> None:
    check_choice(spec.kind, TOOL_KINDS, "kind")
    if spec.parameters is not None:
        check_json_schema(spec.parameters, "parameters")
    check_range(spec.timeout_s, "timeout_s", 0.001, 86400)
    check_range(spec.retry_attempts, "retry_attempts", 1, 100, integer=True)
    check_range(spec.max_result_chars, "max_result_chars", 100, 1_000_000, integer=True)


def _apply(row: Tool, spec: ToolIn) -> bool:
    values = spec.model_dump()
    if values["idempotent"] is None:
        # Only a caller that skips services/tools.py (which fills in the kind's default) gets
        # here: the safe side, a call cut off by a crash is reported rather than run again.
        values["idempotent"] = False
    return copy_fields(row, values)


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
        select(Agent.name, AgentVersion.tools)
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
