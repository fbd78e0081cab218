"""Structured output: the final answer of an agent with an output schema must be JSON that the
schema accepts. Checked in the activity, from the stored answer, so a retry checks the same text."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

MAX_ERRORS = 5


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Validator:
    validator: Validator = Draft202012Validator(json.loads(schema_json))
    return validator


def instructions(schema: dict[str, Any]) -> str:
    """Appended to the system prompt, so the model knows the shape it must answer in."""
    return (
        "When you give your final answer, reply with only a JSON value (no prose, no code "
        f"fences) that matches this JSON Schema:\n{json.dumps(schema, indent=2)}"
    )


def _strip_fences(text: str) -> str:
    body = text.strip()
    if body.startswith("```") and body.endswith("```"):
        body = body[3:-3]
        first_line, _, rest = body.partition("\n")
        if first_line.strip().isalpha():  # a language tag such as json
            body = rest
    return body.strip()


def check_output(text: str, schema: dict[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """(parsed value, ()) when `text` is JSON the schema accepts; else (None, the problems)."""
    try:
        value = json.loads(_strip_fences(text))
    except ValueError as err:
        return None, (f"the answer is not JSON: {err}",)
    errors = sorted(
        _validator(json.dumps(schema)).iter_errors(value), key=lambda e: list(e.absolute_path)
    )
    if errors:
        return None, tuple(
            f"{'at ' + e.json_path + ': ' if e.absolute_path else ''}{e.message}"
            for e in errors[:MAX_ERRORS]
        )
    return value, ()
