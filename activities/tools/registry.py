"""Tool kinds by name, and the one entry point that validates arguments and runs a tool."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

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


def argument_problem(spec: ToolSpec, arguments: dict[str, Any]) -> str | None:
    """Why `arguments` break the tool's schema, or None. Pure and deterministic: the workflow
    calls it before an approval, a question or a child run, as the activity does before a tool."""
    kind = IMPLEMENTATIONS.get(spec.kind)
    schema = spec.parameters or (kind.parameters if kind is not None else {})
    try:
        validate_arguments(spec.name, schema, arguments)
    except InvalidArguments as err:
        return str(err)
    return None


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Validator | None:
    """A checked validator for a schema (None when the schema itself is invalid).

    Checking a schema against its meta-schema costs more than a tool call: done once per schema.
    """
    schema = json.loads(schema_json)
    validator_class = validator_for(schema, default=Draft202012Validator)
    try:
        validator_class.check_schema(schema)
    except SchemaError:
        return None
    validator: Validator = validator_class(schema)
    return validator


def validate_arguments(tool: str, parameters: Mapping[str, Any], arguments: dict[str, Any]) -> None:
    """InvalidArguments naming the argument path and the problem when `arguments` break the
    schema."""
    validator = _validator(json.dumps(parameters))  # key order kept: it orders the errors
    if validator is None:
        raise ToolError(f"tool '{tool}' is misconfigured: invalid parameters schema")
    error: ValidationError | None = best_match(validator.iter_errors(arguments))
    if error is not None:
        where = "arguments" if not error.path else f"argument {error.json_path}"
        raise InvalidArguments(f"invalid arguments for tool '{tool}': {where}: {error.message}")


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[truncated: {len(text) - limit} more characters]"
