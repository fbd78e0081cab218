"""The run as the loop's parts share it: its input, its one state object, and the views of that
state the `state` query and the result give.

`Run.state` is a frozen `LoopState`, replaced (never changed in place) at every transition below,
so what continue-as-new carries is exactly what the run had. Deterministic code only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows import patches
from workflows.kinds import RunStatus, StopReason
from workflows.spec_ref import SPEC_BY_REFERENCE, spec_hash
from workflows.types import (
    AgentSpec,
    LoopState,
    PendingAction,
    RunInput,
    RunResult,
    RunState,
    TranscriptMessage,
    Usage,
)


class RunFailure(Exception):
    """Raised inside the loop to end the run as failed, with the reason."""

    def __init__(self, reason: str, error_type: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_type = error_type


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


class Run:
    """One run: what it was started with and where it is."""

    def __init__(self, input: RunInput) -> None:
        self.input = input
        self.run_id = input.run_id
        self.agent: AgentSpec = input.agent
        # A fresh run's own messages follow the earlier turns of its thread in the transcript.
        self.state = input.carry or LoopState(next_seq=input.history)
        self._spec_ref: str | None = None
        # Tool results the workflow computed and nobody has written yet: the transcript's
        # positions just before `state.next_seq` (workflows/pure_tools.py).
        self.unwritten: tuple[TranscriptMessage, ...] = ()

    def spec_ref(self) -> str | None:
        """What activity inputs carry instead of the agent (workflows/spec_ref.py), hashed once
        per execution; None for runs started before that (they carry the spec itself)."""
        if not patches.patched(SPEC_BY_REFERENCE):
            return None
        if self._spec_ref is None:
            self._spec_ref = spec_hash(self.agent)
        return self._spec_ref

    def remaining(self) -> timedelta | None:
        """Time left before the deadline; None: the run has none."""
        deadline = self.state.deadline
        return None if deadline is None else deadline - workflow.now()

    def set_deadline(self, deadline: datetime) -> None:
        self.state = replace(self.state, deadline=deadline)

    def begin_step(self) -> None:
        self.state = replace(self.state, steps=self.state.steps + 1)

    def fail_over(self) -> None:
        self.state = replace(self.state, model_choice=self.state.model_choice + 1)

    def answered(self, next_seq: int, usage: Usage, text: str) -> None:
        """The model answered at `next_seq - 1`, spending `usage`."""
        self.state = replace(
            self.state,
            next_seq=next_seq,
            usage=self.state.usage + usage,
            last_text=text or self.state.last_text,
        )

    def ask_repair(self) -> None:
        self.state = replace(self.state, repairs=self.state.repairs + 1)

    def start_tools(self, calls: int) -> int:
        """Reserve the transcript positions of `calls` tool results; the first one."""
        first = self.state.next_seq
        self.state = replace(
            self.state, next_seq=first + calls, tool_calls=self.state.tool_calls + calls
        )
        return first

    def tool_failed(self, *, invalid_arguments: bool) -> None:
        self.state = replace(
            self.state,
            tool_errors=self.state.tool_errors + 1,
            invalid_tool_calls=self.state.invalid_tool_calls + (1 if invalid_arguments else 0),
        )

    def spend(self, usage: Usage) -> None:
        """Add what a sub-agent run spent."""
        self.state = replace(self.state, usage=self.state.usage + usage)

    def end(self, status: RunStatus, stop_reason: StopReason, error: str | None = None) -> None:
        self.state = replace(self.state, status=status, stop_reason=stop_reason, error=error)


def state_view(run: Run, pending: tuple[PendingAction, ...]) -> RunState:
    """The answer of the `state` query."""
    state = run.state
    return RunState(
        run_id=run.run_id,
        agent=run.agent.name,
        agent_version=run.agent.version,
        status=state.status,
        steps=state.steps,
        tool_calls=state.tool_calls,
        usage=state.usage,
        last_text=state.last_text,
        stop_reason=state.stop_reason,
        error=state.error,
        pending=pending,
        tool_errors=state.tool_errors,
        invalid_tool_calls=state.invalid_tool_calls,
    )


def result_of(run: Run, answer: str, output: Any = None) -> RunResult:
    """What the run returns (or carries as its failure's details) once it ended."""
    state = run.state
    stop_reason = state.stop_reason
    if stop_reason is None:
        raise RuntimeError("a run has a result only once it ended")
    return RunResult(
        run_id=run.run_id,
        agent=run.agent.name,
        agent_version=run.agent.version,
        status=state.status,
        stop_reason=stop_reason,
        answer=answer,
        steps=state.steps,
        tool_calls=state.tool_calls,
        usage=state.usage,
        error=state.error,
        output=output,
        tool_errors=state.tool_errors,
        invalid_tool_calls=state.invalid_tool_calls,
    )
