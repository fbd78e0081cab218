"""What a discovery of an MCP server writes: one `mcp` tool per tool the server lists.

The connection itself happens elsewhere (activities/tools/mcp_client.py, from the API or the
seed loader); this stores its outcome in one transaction:
- each listed tool is upserted as `<server>__<tool>` (lower case, characters outside
  [a-z0-9_-] replaced by `_`; a name that is too long or that two tools would share gets a
  short hash of the remote name), with the server's description and input schema. Settings an
  operator tuned on an existing tool (timeout, retries, approval, result size) are kept;
- a tool whose remote tool the server no longer lists is deleted, unless an agent's current
  version uses it: then it is kept and marked `config.stale = true` (a call gets the server's
  error) until the remote tool comes back or the agent stops using it;
- a tool that cannot be stored (its name is taken by another tool, its schema is invalid) is
  skipped and named in `discovery_error`; the others are stored;
- a failed connection changes no tool: only `discovery_error` is set.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from config_store.mcp_servers import MCP_KIND, get_server, server_spec, server_tools
from config_store.mcp_spec import RemoteTool, ServerSpec
from config_store.models import utcnow
from config_store.rows import Outcome
from config_store.specs import ToolIn
from config_store.tools import agents_using_tool, find_tool, upsert_tool
from config_store.validation import check_json_schema
from core.errors import Conflict, InvalidConfig

MAX_TOOL_NAME = 64
SEPARATOR = "__"
_UNSAFE = re.compile(r"[^a-z0-9_-]")
# The activity's start-to-close covers connecting (a process start, an initialize request)
# and the call: twice the server's request timeout.
TOOL_TIMEOUT_FACTOR = 2.0
MAX_TOOL_TIMEOUT_S = 86400.0


@dataclass
class DiscoveryChanges:
    """What a discovery did to the tools table, by tool name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # kept: an agent uses them
    skipped: list[str] = field(default_factory=list)  # "remote name: why"

    def add(self, outcome: Outcome, name: str) -> None:
        {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}[
            outcome
        ].append(name)


def local_tool_names(server: str, remote_names: Sequence[str]) -> dict[str, str]:
    """Remote tool name -> `<server>__<tool>`, unique and valid as a tool name."""
    base = {
        remote: f"{server}{SEPARATOR}{_UNSAFE.sub('_', remote.lower())}" for remote in remote_names
    }
    counts = Counter(base.values())
    names = {}
    for remote, name in base.items():
        if counts[name] > 1 or len(name) > MAX_TOOL_NAME:
            digest = hashlib.sha256(remote.encode()).hexdigest()[:6]
            name = f"{name[: MAX_TOOL_NAME - 7]}_{digest}"
        names[remote] = name
    return names


def _taken_by(session: Session, name: str, server: str) -> str | None:
    """Why `name` cannot hold this server's tool, or None when it is free or already ours."""
    row = find_tool(session, name)
    if row is None or (row.kind == MCP_KIND and row.config.get("server") == server):
        return None
    if row.kind == MCP_KIND:
        return f"{name!r} is a tool of MCP server {row.config.get('server')!r}"
    return f"{name!r} is taken by a tool of kind {row.kind}; rename that tool or this server"


def _tool_in(session: Session, name: str, remote: RemoteTool, spec: ServerSpec) -> ToolIn:
    config = {"server": spec.name, "tool": remote.name}
    existing = find_tool(session, name)
    if existing is None:
        timeout = min(MAX_TOOL_TIMEOUT_S, max(1.0, TOOL_TIMEOUT_FACTOR * spec.timeout_s))
        return ToolIn(
            kind="mcp",
            description=remote.description,
            parameters=remote.input_schema,
            config=config,
            timeout_s=timeout,
            idempotent=False,  # a server's tool may do anything (services/tools.py)
        )
    return ToolIn(
        kind="mcp",
        description=remote.description,
        parameters=remote.input_schema,
        config=config,
        timeout_s=existing.timeout_s,
        retry_attempts=existing.retry_attempts,
        requires_approval=existing.requires_approval,
        max_result_chars=existing.max_result_chars,
        idempotent=existing.idempotent,
        on_unknown_outcome=existing.on_unknown_outcome,
    )


def record_discovery(
    session: Session,
    name: str,
    used: ServerSpec,
    tools: Sequence[RemoteTool] | None,
    error: str | None = None,
) -> DiscoveryChanges:
    """Store the outcome of discovering server `name` with settings `used`: its `tools`, or
    the `error` that kept it from listing them. Conflict if the server's settings changed
    meanwhile (what was listed may not be what the new settings reach)."""
    row = get_server(session, name)
    if server_spec(row) != used:
        raise Conflict(f"MCP server {name!r} changed while it was discovered; discover it again")
    changes = DiscoveryChanges()
    if tools is None:
        row.discovery_error = error or "discovery failed"
        session.flush()
        return changes
    names = local_tool_names(name, [tool.name for tool in tools])
    offered: set[str] = set()
    for remote in tools:
        local = names[remote.name]
        offered.add(local)
        problem = _taken_by(session, local, name)
        if problem is None:
            try:
                check_json_schema(remote.input_schema, "parameters")
                changes.add(
                    upsert_tool(session, local, _tool_in(session, local, remote, used)), local
                )
                continue
            except InvalidConfig as err:
                problem = f"{err.field}: {err.problem}"
        changes.skipped.append(f"{remote.name}: {problem}")
    listed = {remote.name for remote in tools}
    for tool in server_tools(session, name):
        if tool.name in offered or tool.config.get("tool") in listed:
            # Still offered (a tool saved by hand under another name included).
            if tool.config.get("stale") is True:
                tool.config = {k: v for k, v in tool.config.items() if k != "stale"}
            continue
        if agents_using_tool(session, tool.name):
            if tool.config.get("stale") is not True:
                tool.config = {**tool.config, "stale": True}
            changes.stale.append(tool.name)
        else:
            session.delete(tool)
            changes.removed.append(tool.name)
    row.discovered_at = utcnow()
    row.discovery_error = (
        f"tools not added: {'; '.join(changes.skipped)}" if changes.skipped else None
    )
    session.flush()
    return changes
