"""Checks shared by the services. Each raises `InvalidConfig` naming the offending field."""

from __future__ import annotations

import math
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from core.errors import InvalidConfig

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def check_name(value: str, field: str = "name") -> None:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise InvalidConfig(
            field,
            f"{value!r} is not a valid name: 1-64 characters of a-z, 0-9, '_', '.', '-', "
            "starting with a letter or digit",
        )


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
