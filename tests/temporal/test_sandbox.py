"""The worker's sandbox runner: the SDK's, with its snippets compiled once and the context
questions asked without entering the sandbox (temporal/sandbox.py). Replaying the corpus with
it is tests/workflows/test_replay.py; these tests fail if the SDK moves what it overrides."""

from __future__ import annotations

import sys
from pathlib import Path
from types import CodeType
from typing import Any, cast

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox._runner import _Instance

import temporal.sandbox as sandbox
from workflows.agent_run import AgentRun

REPO = Path(__file__).resolve().parents[2]
HISTORY = REPO / "tests" / "histories" / "plain_tool_run.json"
OUR_PACKAGES = {"workflows", "activities", "core", "config_store", "temporal", "services"}


def test_a_snippet_is_compiled_once() -> None:
    snippet = "x = 1\n"
    first = sandbox.compiled(snippet)
    assert isinstance(first, CodeType)
    assert sandbox.compiled(snippet) is first


def test_the_sdk_still_has_what_the_runner_overrides() -> None:
    for name in ("_run_code", "_create_instance", "get_serialization_context"):
        assert callable(getattr(_Instance, name, None)), name
    assert callable(getattr(_Instance, "get_external_store_context", None))


async def test_a_run_enters_the_sandbox_only_to_start_and_to_activate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snippets: list[str] = []
    compile_once = sandbox.compiled

    def spy(snippet: str) -> CodeType:
        snippets.append(snippet)
        return compile_once(snippet)

    monkeypatch.setattr(sandbox, "compiled", spy)
    history = WorkflowHistory.from_json("plain", HISTORY.read_text())
    result = await Replayer(
        workflows=[AgentRun], workflow_runner=sandbox.workflow_runner()
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    # Every snippet the SDK ran went through the cache (a renamed `_run_code` would bypass it) ...
    assert any("activate(__temporal_activation)" in s for s in snippets), snippets
    assert any("import AgentRun" in s for s in snippets), snippets
    # ... and none of them asked a context: those calls were answered outside the sandbox.
    assert not [s for s in snippets if "context" in s], snippets


async def test_a_run_imports_none_of_the_workflow_code_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every module of `workflows/` is passed through: a run's sandbox re-imports none of them
    (it did `agent_run.py`, its class definition about a tenth of the worker's CPU under load),
    so a passthrough narrowed to a list of modules that misses one fails here."""
    instances: list[_Instance] = []
    create = sandbox.CompiledSandboxRunner.create_instance

    def keep(runner: sandbox.CompiledSandboxRunner, det: WorkflowInstanceDetails) -> Any:
        instance = create(runner, det)
        instances.append(cast(_Instance, instance))
        return instance

    monkeypatch.setattr(sandbox.CompiledSandboxRunner, "create_instance", keep)
    history = WorkflowHistory.from_json("plain", HISTORY.read_text())
    result = await Replayer(
        workflows=[AgentRun], workflow_runner=sandbox.workflow_runner()
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    assert instances  # the SDK's check of the workflow at start-up, then the run's
    for instance in instances:
        modules = instance.importer.new_modules
        ours = [name for name in modules if name.split(".")[0] in OUR_PACKAGES]
        assert "workflows.agent_run" in ours, sorted(modules)
        # A module passed through is the process's own; one imported again is a new object.
        assert [name for name in ours if modules[name] is not sys.modules[name]] == []
    for path in sorted((REPO / "workflows").glob("*.py")):
        assert instances[0].importer.module_configured_passthrough(f"workflows.{path.stem}")
