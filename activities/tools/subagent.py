"""The `agent` tool kind: another agent, called as a tool. The call is a child workflow.

The workflow runs these calls itself (workflows/agent_run.py): this module only declares what the
model is offered and checks the tool's config. Config: `{"agent": "<agent name>"}`; the version is
pinned when the parent run starts (config_store/agents.py, `snapshot_agent`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from workflows import tool_parameters

PARAMETERS = tool_parameters.SUBAGENT


def check_config(config: Mapping[str, Any]) -> None:
    unknown = sorted(set(config) - {"agent", "version"})
    if unknown:
        raise ToolConfigError(unknown[0], "unknown key (an agent tool takes only 'agent')")
    agent = config.get("agent")
    if not isinstance(agent, str) or not agent:
        raise ToolConfigError("agent", "required: the name of the agent to call")


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    raise ToolError("an agent tool runs as a child workflow, not as a tool activity")


KIND = ToolImplementation(
    kind="agent",
    run=run,
    description="Hand a task to another agent and get its answer.",
    parameters=PARAMETERS,
    check_config=check_config,
)
