"""Saving tools through the service: the store's checks, the kind's own, and its defaults."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from config_store.specs import ToolIn
from core.errors import InvalidConfig
from services.tools import create_tool


def test_tool_defaults_and_validation(session: Session) -> None:
    row = create_tool(session, "calc", ToolIn(kind="calculator"))
    # No schema given: the kind's own, so models are told what arguments the tool takes.
    assert row.parameters["required"] == ["expression"]
    assert row.description.startswith("Evaluate")
    assert (row.timeout_s, row.retry_attempts, row.requires_approval) == (30.0, 3, False)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("x", {"kind": "calculator", "parameters": {"type": "nope"}}, "parameters"),
        ("x", {"kind": "calculator", "parameters": {"type": "string"}}, "parameters"),
        ("x", {"kind": "calculator", "timeout_s": 0}, "timeout_s"),
        ("x", {"kind": "calculator", "retry_attempts": 0}, "retry_attempts"),
        ("a.b", {"kind": "calculator"}, "name"),
    ]
    for name, values, field in cases:
        with pytest.raises(InvalidConfig) as err:
            create_tool(session, name, ToolIn.model_validate(values))
        assert err.value.field == field, values
    with pytest.raises(InvalidConfig) as err:
        create_tool(session, "x", ToolIn.model_construct(kind="shell", parameters={}))  # type: ignore[arg-type]
    assert err.value.field == "kind"


def test_a_kinds_own_settings_are_checked(session: Session) -> None:
    with pytest.raises(InvalidConfig) as err:
        create_tool(
            session,
            "orders",
            ToolIn(
                kind="http",
                config={
                    "url": "https://api.example.com/orders",
                    "headers": {"Authorization": "Bearer sk-123"},
                },
            ),
        )
    assert err.value.field == "config.headers.Authorization"
