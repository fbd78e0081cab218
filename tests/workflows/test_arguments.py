"""The workflow's argument check: the same schemas and the same verdicts as the tool activity."""

from __future__ import annotations

import pytest

from activities.tools.base import InvalidArguments, ToolError
from activities.tools.registry import IMPLEMENTATIONS, validate_arguments
from workflows.arguments import InvalidSchema, argument_problem
from workflows.kinds import TOOL_KINDS
from workflows.tool_parameters import DEFAULT_PARAMETERS
from workflows.types import ToolSpec


def test_every_kind_has_its_default_schema_in_one_place() -> None:
    assert set(DEFAULT_PARAMETERS) == set(TOOL_KINDS) == set(IMPLEMENTATIONS)
    for kind, schema in DEFAULT_PARAMETERS.items():
        assert IMPLEMENTATIONS[kind].parameters is schema, kind


def test_a_tool_without_a_schema_is_checked_against_its_kinds() -> None:
    calc = ToolSpec(name="calc", kind="calculator")
    assert argument_problem(calc, {"expression": "1+1"}) is None
    problem = argument_problem(calc, {"expr": "1+1"})
    assert problem is not None and "'expression' is a required property" in problem
    own = ToolSpec(name="calc", kind="calculator", parameters={"type": "object"})
    assert argument_problem(own, {"expr": "1+1"}) is None


def test_the_workflow_and_the_activity_agree() -> None:
    spec = ToolSpec(name="write", kind="write_file")
    arguments = {"path": "a.md", "content": "x", "mode": "truncate"}
    problem = argument_problem(spec, arguments)
    assert problem is not None
    with pytest.raises(InvalidArguments) as caught:
        validate_arguments(spec.name, DEFAULT_PARAMETERS["write_file"], arguments)
    assert str(caught.value) == problem


def test_an_invalid_schema_is_a_misconfigured_tool() -> None:
    broken = ToolSpec(name="t", kind="calculator", parameters={"type": "nope"})
    with pytest.raises(InvalidSchema, match="misconfigured"):
        argument_problem(broken, {})
    with pytest.raises(ToolError, match="misconfigured"):
        validate_arguments("t", {"type": "nope"}, {})
