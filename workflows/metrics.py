"""What the workflow counts, through the SDK's workflow metric meter (on the worker's Prometheus
endpoint when WORKER_METRICS_PORT is set). The SDK's meter emits nothing while the workflow
replays its history (or is being evicted), so a run replayed on another worker is not counted
twice. Counting adds no command to the history. Names: docs/operations.md#metrics.
"""

from __future__ import annotations

from temporalio import workflow


def count_run_finished(agent: str, status: str) -> None:
    """The run's loop ended with `status` (recorded as the run's outcome)."""
    workflow.metric_meter().create_counter(
        "orch_worker_runs_finished", "Runs whose loop ended on this worker, by agent and status."
    ).add(1, {"agent": agent, "status": status})


def count_approval_requested(agent: str, cause: str) -> None:
    """The run started to wait for a person's approval."""
    workflow.metric_meter().create_counter(
        "orch_approvals_requested", "Approvals a run asked for, by agent and cause."
    ).add(1, {"agent": agent, "cause": cause})


def count_approval_resolved(agent: str, cause: str, decision: str) -> None:
    """The wait for an approval ended: approved, rejected, expired or cancelled (the run)."""
    workflow.metric_meter().create_counter(
        "orch_approvals_resolved",
        "Approvals whose wait ended, by agent, cause and decision.",
    ).add(1, {"agent": agent, "cause": cause, "decision": decision})


def count_tool_call(tool: str, error_type: str | None) -> None:
    """A tool call the workflow computed itself (workflows/pure_tools.py), counted under the
    tool activity's names: a call, and an error when it gave the model one."""
    meter = workflow.metric_meter()
    meter.create_counter("orch_tool_calls", "Tool calls made, by tool.").add(1, {"tool": tool})
    if error_type is not None:
        meter.create_counter(
            "orch_tool_errors", "Tool calls that gave the model an error, by tool and type."
        ).add(1, {"tool": tool, "error_type": error_type})
