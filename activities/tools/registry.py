"""Tool kinds by name, and the one entry point that validates arguments and runs a tool."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from activities.tools import (
    ask_user,
    calculator,
    doc_search,
    github,
    http_api,
    http_request,
    list_files,
    mcp_tool,
    read_file,
    subagent,
    web_search,
    write_file,
)
from activities.tools.base import InvalidArguments, ToolContext, ToolError, ToolImplementation
from workflows.arguments import InvalidSchema, schema_problem
from workflows.types import ToolSpec

_KINDS = (
    calculator.KIND,
    read_file.KIND,
    write_file.KIND,
    list_files.KIND,
    ask_user.KIND,
    subagent.KIND,
    web_search.KIND,
    doc_search.KIND,
    github.KIND,
    http_api.KIND,
    http_request.KIND,
    mcp_tool.KIND,
)
IMPLEMENTATIONS: Mapping[str, ToolImplementation] = MappingProxyType(
    {kind.kind: kind for kind in _KINDS}
)


async def execute_tool(spec: ToolSpec, arguments: dict[str, Any], ctx: ToolContext) -> str:
    """Run one tool call and return its result text, cut to the tool's `max_result_chars`.

    Raises ToolError for problems the model should see: an unknown kind, arguments that do not
    match the tool's JSON Schema (`spec.parameters`, else the kind's default: InvalidArguments),
    or the tool's own complaint.
    """
    kind = IMPLEMENTATIONS.get(spec.kind)
    if kind is None:
        raise ToolError(f"tool '{spec.name}' has an unknown kind {spec.kind!r}")
    validate_arguments(spec.name, spec.parameters or kind.parameters, arguments)
    result = await kind.run(arguments, ctx, spec.config)
    return truncate(result, spec.max_result_chars)


def validate_arguments(tool: str, parameters: Mapping[str, Any], arguments: dict[str, Any]) -> None:
    """InvalidArguments naming the argument path and the problem when `arguments` break the
    schema; ToolError when the schema itself is invalid."""
    try:
        problem = schema_problem(tool, parameters, arguments)
    except InvalidSchema as err:
        raise ToolError(str(err)) from None
    if problem is not None:
        raise InvalidArguments(problem)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[truncated: {len(text) - limit} more characters]"
