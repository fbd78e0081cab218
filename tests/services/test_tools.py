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


@pytest.mark.parametrize(
    ("kind", "config", "expected"),
    [
        ("calculator", {}, True),
        ("read_file", {}, True),
        ("write_file", {}, True),  # its own ledger applies a call once
        ("http", {"url": "https://api.example.com/x"}, True),
        ("http", {"url": "https://api.example.com/x", "method": "HEAD"}, True),
        ("http", {"url": "https://api.example.com/x", "method": "POST"}, False),
        ("http", {"url": "https://api.example.com/x", "method": "DELETE"}, False),
        ("http_request", {}, True),
        ("http_request", {"methods": ["GET", "POST"]}, False),
        ("github", {}, True),
        ("github", {"allow_write": True}, False),
        ("mcp", {"server": "s", "tool": "t"}, False),
    ],
)
def test_idempotent_defaults_to_the_kinds(
    session: Session, kind: str, config: dict[str, Any], expected: bool
) -> None:
    row = create_tool(session, "t", ToolIn.model_validate({"kind": kind, "config": config}))
    assert row.idempotent is expected
    given = ToolIn.model_validate({"kind": kind, "config": config, "idempotent": not expected})
    assert create_tool(session, "u", given).idempotent is (not expected)
