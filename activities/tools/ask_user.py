"""Ask the person running the agent a question. The workflow handles this kind itself: it waits
for the answer, given through the run's input endpoint, and hands it to the model as the result.
It never runs as an activity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.tools.base import ToolContext, ToolError, ToolImplementation
from workflows import tool_parameters

PARAMETERS = tool_parameters.ASK_USER


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    raise ToolError(
        "ask_user is answered by a person through the run's input endpoint; "
        "it does not run as an activity"
    )


KIND = ToolImplementation(
    kind="ask_user",
    run=run,
    description="Ask the person running the agent a question and wait for the answer.",
    parameters=PARAMETERS,
)
