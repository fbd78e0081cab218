"""The run's events: one frozen dataclass per event type, its payload (`RunEvent.data`).

`event_data` turns a payload into the JSON object the event carries: its fields, in order,
nested dataclasses as objects (`wire` metadata renames a field whose name is a Python keyword;
`optional` metadata leaves a field out while it holds its default).
docs/events.md documents each type; tests/workflows/test_events_doc.py checks the two agree.
The workflow publishes all of them but `llm.delta` and `llm.retrying`, which the model activity
publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from workflows.kinds import (
    ApprovalCause,
    ApprovalResolution,
    RunStatus,
    StopReason,
    ToolErrorType,
)
from workflows.types import RunEvent, ToolCall

# A usage as events show it: Usage.as_dict() (tokens, cached tokens, total, cost in USD).
UsageData = Mapping[str, int | float]


@dataclass(frozen=True)
class RunLimits:
    max_steps: int
    max_total_tokens: int | None
    max_cost_usd: float | None
    max_duration_s: float | None


@dataclass(frozen=True)
class ChildLimits:
    """A sub-agent's budgets, after the parent's caps."""

    max_total_tokens: int | None
    max_cost_usd: float | None
    max_duration_s: float | None


@dataclass(frozen=True)
class RunStarted:
    type: ClassVar[str] = "run.started"
    agent: str
    agent_version: int
    model: str
    provider: str
    fallbacks: tuple[str, ...]  # "provider/model"
    input: str
    limits: RunLimits
    # The run's trace (32 hex digits), while tracing is on where it was started (core/tracing.py).
    trace_id: str = field(default="", metadata={"optional": True})


@dataclass(frozen=True)
class StepStarted:
    type: ClassVar[str] = "step.started"
    seq: int  # the transcript position of the answer
    model: str  # "provider/model"


@dataclass(frozen=True)
class LlmDelta:
    """Streamed by the model activity (activities/llm/deltas.py), not the workflow."""

    type: ClassVar[str] = "llm.delta"
    text: str
    attempt: int


@dataclass(frozen=True)
class LlmRetrying:
    """Published by the model activity (activities/llm/retrying.py) when its call failed with
    an error Temporal retries: the retry is `attempt`, due in about `retry_in_s` seconds."""

    type: ClassVar[str] = "llm.retrying"
    attempt: int
    error: str
    error_type: str
    retry_in_s: float


@dataclass(frozen=True)
class LlmFailover:
    type: ClassVar[str] = "llm.failover"
    from_: str = field(metadata={"wire": "from"})
    to: str
    error: str
    error_type: str


@dataclass(frozen=True)
class LlmCompleted:
    type: ClassVar[str] = "llm.completed"
    text: str
    tool_calls: tuple[ToolCall, ...]
    usage: UsageData
    model: str
    provider: str


@dataclass(frozen=True)
class OutputInvalid:
    type: ClassVar[str] = "output.invalid"
    errors: tuple[str, ...]
    repair: int


@dataclass(frozen=True)
class ToolStarted:
    type: ClassVar[str] = "tool.started"
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ApprovalRequested:
    type: ClassVar[str] = "approval.requested"
    call_id: str
    tool: str
    arguments: dict[str, Any]
    timeout_s: float
    # "outcome_unknown": the approval is of a retry of a call whose earlier attempt's outcome
    # is unknown (the tool's `on_unknown_outcome: ask`).
    cause: ApprovalCause = "requires_approval"


@dataclass(frozen=True)
class ApprovalResolved:
    type: ClassVar[str] = "approval.resolved"
    call_id: str
    tool: str
    decision: ApprovalResolution
    reason: str
    by: str
    cause: ApprovalCause = "requires_approval"


@dataclass(frozen=True)
class InputRequested:
    type: ClassVar[str] = "input.requested"
    call_id: str
    question: str


@dataclass(frozen=True)
class InputReceived:
    type: ClassVar[str] = "input.received"
    call_id: str
    text: str


@dataclass(frozen=True)
class ToolCompleted:
    type: ClassVar[str] = "tool.completed"
    call_id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    result: str  # the preview: at most PREVIEW_CHARS
    truncated: bool
    error: str | None
    error_type: ToolErrorType | None
    tool_errors: int  # the run's counts so far
    invalid_tool_calls: int


@dataclass(frozen=True)
class SubagentStarted:
    type: ClassVar[str] = "subagent.started"
    call_id: str
    tool: str
    run_id: str  # the child's
    agent: str
    agent_version: int
    input: str
    limits: ChildLimits


@dataclass(frozen=True)
class SubagentEvent:
    type: ClassVar[str] = "subagent.event"
    run_id: str  # the child's
    call_id: str
    event: RunEvent  # the child's event, whole


@dataclass(frozen=True)
class SubagentCompleted:
    type: ClassVar[str] = "subagent.completed"
    call_id: str
    run_id: str
    agent: str
    status: RunStatus
    stop_reason: StopReason
    answer: str
    usage: UsageData


@dataclass(frozen=True)
class SubagentFailed:
    type: ClassVar[str] = "subagent.failed"
    call_id: str
    run_id: str
    agent: str
    error: str
    error_type: str | None
    usage: UsageData


@dataclass(frozen=True)
class RunEnded:
    """The shape of `run.completed` and `run.stopped`."""

    answer: str
    output: Any
    stop_reason: StopReason
    steps: int
    tool_calls: int
    tool_errors: int
    invalid_tool_calls: int
    usage: UsageData


@dataclass(frozen=True)
class RunCompleted(RunEnded):
    type: ClassVar[str] = "run.completed"


@dataclass(frozen=True)
class RunStopped(RunEnded):
    type: ClassVar[str] = "run.stopped"


@dataclass(frozen=True)
class RunFailed:
    type: ClassVar[str] = "run.failed"
    error: str
    error_type: str
    steps: int
    usage: UsageData


@dataclass(frozen=True)
class RunCancelled:
    type: ClassVar[str] = "run.cancelled"
    answer: str  # the last non-empty text
    steps: int
    tool_calls: int
    usage: UsageData


EventPayload = (
    RunStarted
    | StepStarted
    | LlmDelta
    | LlmRetrying
    | LlmFailover
    | LlmCompleted
    | OutputInvalid
    | ToolStarted
    | ApprovalRequested
    | ApprovalResolved
    | InputRequested
    | InputReceived
    | ToolCompleted
    | SubagentStarted
    | SubagentEvent
    | SubagentCompleted
    | SubagentFailed
    | RunCompleted
    | RunStopped
    | RunFailed
    | RunCancelled
)

EVENT_TYPES: tuple[type[EventPayload], ...] = (
    RunStarted,
    StepStarted,
    LlmDelta,
    LlmRetrying,
    LlmFailover,
    LlmCompleted,
    OutputInvalid,
    ToolStarted,
    ApprovalRequested,
    ApprovalResolved,
    InputRequested,
    InputReceived,
    ToolCompleted,
    SubagentStarted,
    SubagentEvent,
    SubagentCompleted,
    SubagentFailed,
    RunCompleted,
    RunStopped,
    RunFailed,
    RunCancelled,
)

# Exactly one of these ends every run's stream.
TERMINAL_EVENTS = frozenset({RunCompleted.type, RunFailed.type, RunStopped.type, RunCancelled.type})


def wire_names(payload: type[EventPayload]) -> tuple[str, ...]:
    """The keys of the payload's JSON object, in order."""
    return tuple(f.metadata.get("wire", f.name) for f in fields(payload))


def event_data(payload: EventPayload) -> dict[str, Any]:
    """The payload as the event's `data`."""
    values = asdict(payload)
    return {
        f.metadata.get("wire", f.name): values[f.name]
        for f in fields(payload)
        if not (f.metadata.get("optional") and values[f.name] == f.default)
    }
