"""Checks shared by the services. Each raises `InvalidConfig` naming the offending field."""

from __future__ import annotations

import math
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from core.errors import InvalidConfig

# The name of a provider, tool, agent, route or MCP server (and a route's key): the API's
# `Field(pattern=NAME_PATTERN)` and `check_name` (the services, the seed file) use this one rule.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
NAME_RE = re.compile(NAME_PATTERN)


def check_name(value: str, field: str = "name") -> None:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise InvalidConfig(
            field,
            f"{value!r} is not a valid name: 1-64 characters of a-z, 0-9, '_', '.', '-', "
            "starting with a letter or digit",
        )


# RFC 9110 field names ("token").
_HEADER_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_REF_RE = re.compile(r"\$\{([^}]*)\}")


def check_header_name(name: str, field: str) -> None:
    if not _HEADER_NAME_RE.fullmatch(name):
        raise InvalidConfig(field, f"{name!r} is not a valid HTTP header name")


def check_no_controls(value: str, field: str) -> None:
    if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in value):
        raise InvalidConfig(field, "must not contain line breaks or control characters")


def check_env_template(value: str, field: str) -> None:
    """Every `${` starts a well-formed reference to an env var."""
    for ref in ENV_REF_RE.findall(value):
        if not ENV_NAME_RE.fullmatch(ref):
            raise InvalidConfig(
                field, f"${{{ref}}} does not name an environment variable, e.g. ${{MY_TOKEN}}"
            )
    if "${" in ENV_REF_RE.sub("", value):
        raise InvalidConfig(field, "'${' starts a reference that is not closed with '}'")


def check_choice(value: object, choices: tuple[str, ...], field: str) -> None:
    if value not in choices:
        raise InvalidConfig(field, f"{value!r} is not one of {', '.join(choices)}")


def check_range(
    value: float | None, field: str, low: float, high: float, *, integer: bool = False
) -> None:
    if value is None:
        return
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidConfig(field, "must be an integer")
    if not low <= value <= high:
        raise InvalidConfig(field, f"must be between {low:g} and {high:g}, got {value!r}")


def check_above(
    value: float | None, field: str, low: float, *, inclusive: bool = False, integer: bool = False
) -> None:
    """`value` > `low` (>= with `inclusive`) and finite; None passes (not set)."""
    if value is None:
        return
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidConfig(field, "must be an integer")
    if not math.isfinite(value):
        raise InvalidConfig(field, f"must be a finite number, got {value!r}")
    if value < low or (value == low and not inclusive):
        raise InvalidConfig(field, f"must be {'at least' if inclusive else 'above'} {low:g}")


def check_json_schema(
    schema: dict[str, Any], field: str = "parameters", *, object_only: bool = True
) -> None:
    """A valid JSON Schema (2020-12); with `object_only` (a tool's arguments), of an object."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        where = "/".join(str(p) for p in e.path)
        raise InvalidConfig(
            field, f"not a valid JSON Schema{' at ' + where if where else ''}: {e.message}"
        ) from None
    if object_only and schema.get("type") != "object":
        raise InvalidConfig(field, 'must describe an object: {"type": "object", ...}')
