"""The calculator tool: arithmetic without eval (workflows/arithmetic.py), as an activity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.tools.base import ToolContext, ToolError, ToolImplementation
from workflows import tool_parameters
from workflows.arithmetic import ArithmeticProblem, evaluate, format_number

PARAMETERS = tool_parameters.CALCULATOR


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    expression = arguments.get("expression")
    if not isinstance(expression, str):
        raise ToolError("argument 'expression' must be a string")
    try:
        return format_number(evaluate(expression))
    except ArithmeticProblem as err:
        raise ToolError(str(err)) from None


KIND = ToolImplementation(
    kind="calculator",
    run=run,
    description="Evaluate an arithmetic expression and return the number.",
    parameters=PARAMETERS,
)
