"""Checking a tool call's arguments against the tool's JSON Schema: pure and deterministic.

The workflow checks each call before anything runs for it (an approval, a question, a child
run, an activity), and the tool activity checks again with the same function before it runs the
tool. A tool with no schema of its own is checked against its kind's (tool_parameters.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from workflows.tool_parameters import DEFAULT_PARAMETERS
from workflows.types import ToolSpec


class InvalidSchema(ValueError):
    """The tool's own parameters schema is not a valid JSON Schema (a misconfigured tool)."""


def argument_problem(spec: ToolSpec, arguments: dict[str, Any]) -> str | None:
    """Why `arguments` break the tool's schema (its own, else its kind's), or None."""
    schema = spec.parameters or DEFAULT_PARAMETERS.get(spec.kind, {})
    return schema_problem(spec.name, schema, arguments)


def schema_problem(
    tool: str, parameters: Mapping[str, Any], arguments: dict[str, Any]
) -> str | None:
    """The argument path and the problem when `arguments` break `parameters`, or None.
    InvalidSchema when `parameters` is not a schema."""
    validator = _validator(json.dumps(parameters))  # key order kept: it orders the errors
    if validator is None:
        raise InvalidSchema(f"tool '{tool}' is misconfigured: invalid parameters schema")
    error: ValidationError | None = best_match(validator.iter_errors(arguments))
    if error is None:
        return None
    where = "arguments" if not error.path else f"argument {error.json_path}"
    return f"invalid arguments for tool '{tool}': {where}: {error.message}"


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
