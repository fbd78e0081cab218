"""What the parts of the AgentRun loop share: the run's state (set by AgentRun), recording a
tool result on a tool's behalf, and the failure helpers.

The loop is one workflow class built from parts: `subagents.Subagents` (agents as tools, child
workflows) and `tool_steps.ToolSteps` (running the tools of a step, approvals, questions), which
AgentRun extends. Deterministic code only.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.types import (
    AgentSpec,
    ApprovalDecision,
    PendingAction,
    RecordInput,
    RunEvent,
    ToolCall,
    ToolOutcome,
    TranscriptMessage,
    Usage,
)

with workflow.unsafe.imports_passed_through():
    from activities.transcript import TranscriptActivities

RECORD_TIMEOUT = timedelta(seconds=30)
INVALID_ARGUMENTS = "invalid_arguments"  # activities.tools.activity.INVALID_ARGUMENTS
# How much of a result travels in ToolOutcome.preview (and the events); the transcript has all.
PREVIEW_CHARS = 2000


def failure_cause(err: BaseException) -> tuple[str, str | None]:
    """(message, error type) of the most specific failure in an activity failure chain: the
    provider's or the tool's own, e.g. ("... answered 401: ...", "ProviderRejected")."""
    cause: BaseException | None = err
    message = str(err)
    while cause is not None:
        if isinstance(cause, ApplicationError):
            return cause.message, cause.type
        message = str(cause) or message
        cause = cause.__cause__
    return message, None


class RunFailed(Exception):
    """Raised inside the loop to end the run as failed, with the reason."""

    def __init__(self, reason: str, error_type: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type


class LoopState:
    """The run's state every part reads and writes. AgentRun.__init__ sets all of it."""

    _run_id: str
    _agent: AgentSpec
    _steps: int
    _next_seq: int
    _usage: Usage
    _tool_calls: int
    _tool_errors: int
    _invalid_tool_calls: int
    _pending: dict[str, PendingAction]
    _decisions: dict[str, ApprovalDecision]
    _answers: dict[str, str]
    _parent: str | None
    _depth: int
    _outbox: list[RunEvent]
    _forwarding: bool
    _forwarder: asyncio.Task[None] | None
    _children: dict[str, str]

    def _publish(self, type_: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def _remaining(self) -> timedelta | None:
        raise NotImplementedError

    async def _record_failure(
        self, seq: int, call: ToolCall, message: str, error_type: str
    ) -> ToolOutcome:
        """Write a failed call's result for the model, on the tool activity's behalf."""
        await self._record(seq, call, message, is_error=True)
        return ToolOutcome(
            call_id=call.id,
            name=call.name,
            ok=False,
            preview="",
            error=message,
            error_type=error_type,
        )

    async def _record(self, seq: int, call: ToolCall, text: str, *, is_error: bool) -> None:
        message = TranscriptMessage(
            role="tool", text=text, tool_call_id=call.id, tool_name=call.name, is_error=is_error
        )
        await workflow.execute_activity_method(
            TranscriptActivities.record,
            RecordInput(run_id=self._run_id, first_seq=seq, messages=(message,)),
            start_to_close_timeout=RECORD_TIMEOUT,
        )
