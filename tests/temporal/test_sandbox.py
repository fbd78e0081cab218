"""The worker's sandbox runner: the SDK's, with its snippets compiled once and the context
questions asked without entering the sandbox (temporal/sandbox.py). Replaying the corpus with
it is tests/workflows/test_replay.py; these tests fail if the SDK moves what it overrides."""

from __future__ import annotations

from pathlib import Path
from types import CodeType

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox._runner import _Instance

import temporal.sandbox as sandbox
from workflows.agent_run import AgentRun

HISTORY = Path(__file__).resolve().parent.parent / "histories" / "plain_tool_run.json"


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
