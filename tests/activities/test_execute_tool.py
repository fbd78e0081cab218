"""execute_tool: schema validation first, then dispatch by kind."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from activities.tools.base import ToolContext, ToolError
from activities.tools.registry import IMPLEMENTATIONS, execute_tool
from tests.support.llm import CALCULATOR, READ_FILE
from workflows.types import ToolSpec


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    (tmp_path / "a.txt").write_text("x" * 50, encoding="utf-8")
    return ToolContext(workspace_dir=tmp_path)


async def _problem(spec: ToolSpec, arguments: dict[str, object], ctx: ToolContext) -> str:
    with pytest.raises(ToolError) as caught:
        await execute_tool(spec, arguments, ctx)
    return str(caught.value)


async def test_runs_the_calculator(ctx: ToolContext) -> None:
    assert await execute_tool(CALCULATOR, {"expression": "12*7"}, ctx) == "84"


async def test_reads_a_file_and_truncates_at_the_tools_max_result_chars(ctx: ToolContext) -> None:
    result = await execute_tool(
        dataclasses.replace(READ_FILE, max_result_chars=20), {"path": "a.txt"}, ctx
    )

    assert result == "x" * 20 + "\n[truncated: 30 more characters]"


async def test_read_file_config_max_bytes(ctx: ToolContext) -> None:
    spec = ToolSpec(name="read_file", kind="read_file", config={"max_bytes": 10})

    assert "more than the limit of 10" in await _problem(spec, {"path": "a.txt"}, ctx)


async def test_schema_error_names_the_field(ctx: ToolContext) -> None:
    wrong_type = await _problem(CALCULATOR, {"expression": 12}, ctx)
    missing = await _problem(CALCULATOR, {}, ctx)

    assert "calculator" in wrong_type
    assert "$.expression" in wrong_type
    assert "12 is not of type 'string'" in wrong_type
    assert "'expression' is a required property" in missing


async def test_nested_schema_error_path(ctx: ToolContext) -> None:
    spec = ToolSpec(
        name="calculator",
        kind="calculator",
        parameters={
            "type": "object",
            "properties": {
                "expression": {"type": "string"},
                "options": {
                    "type": "object",
                    "properties": {"digits": {"type": "integer", "minimum": 0}},
                },
            },
        },
    )

    problem = await _problem(spec, {"expression": "1", "options": {"digits": -1}}, ctx)

    assert "$.options.digits" in problem
    assert "-1 is less than the minimum of 0" in problem


async def test_default_schema_when_spec_has_none(ctx: ToolContext) -> None:
    bare = ToolSpec(name="calc", kind="calculator")

    assert await execute_tool(bare, {"expression": "1+1"}, ctx) == "2"
    assert "'expression' is a required property" in await _problem(bare, {"x": 1}, ctx)


async def test_raw_arguments_from_a_model_are_reported(ctx: ToolContext) -> None:
    problem = await _problem(CALCULATOR, {"_raw": '{"expression": "1+'}, ctx)

    assert "'expression' is a required property" in problem


async def test_unknown_kind(ctx: ToolContext) -> None:
    spec = ToolSpec(name="shell", kind="shell")

    assert "unknown kind 'shell'" in await _problem(spec, {}, ctx)


async def test_calculator_errors_surface(ctx: ToolContext) -> None:
    assert "division by zero" in await _problem(CALCULATOR, {"expression": "1/0"}, ctx)


async def test_ask_user_never_runs_as_an_activity(ctx: ToolContext) -> None:
    spec = ToolSpec(name="ask", kind="ask_user")

    problem = await _problem(spec, {"question": "Which file?"}, ctx)
    assert problem == (
        "ask_user is answered by a person through the run's input endpoint; "
        "it does not run as an activity"
    )
    assert "'question' is a required property" in await _problem(spec, {}, ctx)


def test_tool_kinds() -> None:
    assert set(IMPLEMENTATIONS) == {
        "calculator",
        "read_file",
        "write_file",
        "list_files",
        "ask_user",
        "agent",
        "web_search",
        "doc_search",
        "github",
        "http",
        "http_request",
        "mcp",
    }
    assert IMPLEMENTATIONS["ask_user"].parameters == {
        "type": "object",
        "properties": {"question": {"type": "string", "description": "the question to ask"}},
        "required": ["question"],
        "additionalProperties": False,
    }
    for kind in IMPLEMENTATIONS.values():
        assert kind.parameters["type"] == "object"
