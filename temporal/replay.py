"""Replay an exported run history against the current workflow code."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig
from temporalio.worker import Replayer

from core.errors import OrchError
from temporal.sandbox import workflow_runner
from workflows.agent_run import AgentRun

# A terminal's colour and cursor codes (CSI sequences): `\x1b[2m`, `\x1b[0m`, ...
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def plain(text: str) -> str:
    """`text` without ANSI escape sequences."""
    return _ANSI.sub("", text)


def _replay_runtime() -> Runtime:
    """A runtime whose core logs go to Python logging (`temporalio.core`), not straight to
    stdout in colour as the default runtime's do: a failed replay's nondeterminism warning
    would otherwise put escape codes into a pipe or a CI log."""
    forward = LogForwardingConfig(logger=logging.getLogger("temporalio.core"))
    filter = LoggingConfig.default.filter
    return Runtime(
        telemetry=TelemetryConfig(logging=LoggingConfig(filter=filter, forwarding=forward))
    )


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
    replayer = Replayer(
        workflows=[AgentRun], workflow_runner=workflow_runner(), runtime=_replay_runtime()
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    events = len(data.get("events", []))
    if result.replay_failure is not None:
        return ReplayReport(workflow_id, events, ok=False, error=plain(str(result.replay_failure)))
    return ReplayReport(workflow_id, events, ok=True)
