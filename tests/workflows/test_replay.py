"""The replay corpus: every history in tests/histories/ replays on the current AgentRun code.

Each history was recorded from a real run (tests/histories/record.py). A change to the workflow
that would make a run already in flight take a different path (another activity, another order,
a missing timer) fails here with a nondeterminism error. Replaying needs no server.
How to re-record and when to add a history: tests/histories/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from temporal.sandbox import workflow_runner
from workflows.agent_run import AgentRun

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
HISTORY_FILES = sorted(HISTORIES.glob("*.json"))

# Every path of the workflow the corpus must cover: deleting one of these histories fails.
EXPECTED = {
    "plain_tool_run",
    "baseline_patch",
    "concurrent_tool_calls",
    "approval_approved",
    "approval_rejected",
    "approval_expired",
    "unknown_outcome_approved",
    "ask_user_answered",
    "subagent_parent",
    "subagent_child",
    "provider_failover",
    "provider_rejected",
    "budget_max_steps",
    "budget_tokens",
    "budget_cost",
    "deadline_between_steps",
    "deadline_during_model_call",
    "output_repaired",
    "output_repair_failed",
    "cancel_waiting_approval",
    "continue_as_new_first",
    "continue_as_new_continued",
    "continue_as_new_own_events_first",
    "continue_as_new_own_events_second",
    "continue_as_new_own_events_third",
    "tool_errors",
    "tool_error_fails_run",
    "spec_by_reference",
    "deltas_unwatched",
    "deltas_watched",
    "streamed_by_reference",
    "local_calculator",
    "inline_calculator",
    "inline_calculator_own_marker",
    "inline_calculator_fails_run",
    "outcome_recorded",
    "outcome_recorded_cancelled",
    "outcome_not_recorded",
}


def test_the_corpus_covers_every_path() -> None:
    missing = EXPECTED - {path.stem for path in HISTORY_FILES}
    assert not missing, f"histories missing from {HISTORIES}: {sorted(missing)}"


# The worker's own sandbox runner (temporal/sandbox.py) and the SDK's default one: the first is
# what runs in production, the second what a user replaying with the SDK alone would use.
RUNNERS: dict[str, WorkflowRunner] = {
    "worker_runner": workflow_runner(),
    "sdk_runner": SandboxedWorkflowRunner(),
}


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("path", HISTORY_FILES, ids=[path.stem for path in HISTORY_FILES])
async def test_the_history_replays(path: Path, runner: str) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    assert history.events, f"{path.name} holds no events"
    replayer = Replayer(workflows=[AgentRun], workflow_runner=RUNNERS[runner])
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    if failure is not None:  # the first lines say which event no longer matches the code
        reason = f"{type(failure).__name__}: {str(failure)[:800]}"
        pytest.fail(f"{path.name} no longer replays: {reason}", pytrace=False)
