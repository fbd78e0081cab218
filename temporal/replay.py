"""Replay an exported run history against the current workflow code."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from core.errors import OrchError
from workflows.agent_run import AgentRun


@dataclass(frozen=True)
class ReplayReport:
    workflow_id: str
    events: int
    ok: bool
    error: str | None = None


async def replay_file(path: Path) -> ReplayReport:
    """Replay `path` (from `temporal workflow show --output json` or the Web UI's download)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise OrchError(f"cannot read history {path}: {err}", code="bad_history") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise OrchError(
            f"{path} is not an exported history (no 'events' list): use "
            "`temporal workflow show --workflow-id RUN_ID --output json`",
            code="bad_history",
        )
    workflow_id = path.stem  # the exported JSON does not carry it; it only names the report
    history = WorkflowHistory.from_json(workflow_id, data)
    replayer = Replayer(workflows=[AgentRun])
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    events = len(data.get("events", []))
    if result.replay_failure is not None:
        return ReplayReport(workflow_id, events, ok=False, error=str(result.replay_failure))
    return ReplayReport(workflow_id, events, ok=True)
