"""Frozen dataclasses that cross the Temporal boundary.

Every workflow, activity, signal, update and query takes exactly one of these and returns one.
New fields always get a default so that histories written by older code still decode.

No `from __future__ import annotations` here: the data converter resolves these annotations on
every decode, and real annotation objects make that about 2.5x faster than strings.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey
from temporalio.contrib.workflow_streams import WorkflowStreamState

from workflows.kinds import (
    ApprovalCause,
    ApprovalVerdict,
    OnToolError,
    OnUnknownOutcome,
    OutcomeStatus,
    PendingKind,
    ProviderKind,
    Role,
    RunStatus,
    StopReason,
    ToolErrorType,
    ToolKind,
)

# The topic every run event is published on.
EVENTS_TOPIC = "events"
# The search attribute every run carries: its agent's name (Web UI and GET /v1/runs filter on it).
AGENT_NAME = SearchAttributeKey.for_keyword("AgentName")


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens for one model of a provider."""

    model: str
    input_usd_per_mtok: float = 0.0
    output_usd_per_mtok: float = 0.0
    # Cached prompt tokens, where the provider reports them; None: priced as input.
    cached_input_usd_per_mtok: float | None = None


@dataclass(frozen=True)
class ProviderSpec:
    """How to reach a model provider. Names the env var holding the key, never the key."""

    name: str
    kind: ProviderKind
    base_url: str | None = None
    api_key_env: str | None = None
    default_model: str | None = None
    timeout_s: float = 60.0  # one HTTP request to the provider
    # Extra request headers; a value may name env vars as ${VAR}, resolved in the activity.
    headers: dict[str, str] = field(default_factory=dict)
    prices: tuple[ModelPrice, ...] = ()


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the agent's version saw it when the run started."""

    name: str
    kind: ToolKind
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)  # JSON Schema of the arguments
    timeout_s: float = 30.0
    retry_attempts: int = 3
    requires_approval: bool = False
    # Kind-specific settings. Secrets only as env var names (`token_env`) or `${VAR}` references.
    config: dict[str, Any] = field(default_factory=dict)
    # Results longer than this are cut, with a marker saying how much was left out.
    max_result_chars: int = 20_000
    # False: a call is never run twice. A ledger row is written before it starts, and a retry
    # that finds the row unfinished reports `outcome_unknown` instead of calling again. The
    # default keeps the old behaviour for inputs written before the field existed.
    idempotent: bool = True
    # For a non-idempotent tool, when a call's outcome is unknown: "report" gives the model
    # `outcome_unknown`; "ask" has a person approve a retry first (the agent's approval timeout).
    on_unknown_outcome: OnUnknownOutcome = "report"


@dataclass(frozen=True)
class ToolCall:
    """A call the model asked for. `id` is the provider's call id (or a generated one)."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScriptTurn:
    """One turn of the offline scripted model: some text, some tool calls, or both."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ModelChoice:
    """A model to fall back to, on the same provider or another."""

    provider: ProviderSpec
    model: str


@dataclass(frozen=True)
class AgentSpec:
    """Immutable snapshot of one agent version, resolved with its provider and tools.

    `system_prompt` is the template of the version; the API renders it at run start.
    """

    name: str
    version: int
    provider: ProviderSpec
    model: str
    system_prompt: str = ""
    tools: tuple[ToolSpec, ...] = ()
    max_steps: int = 10
    temperature: float | None = None
    script: tuple[ScriptTurn, ...] = ()
    # Tried in order when a step's model call fails for good with a retryable (overload-class)
    # error: after the retry budget is spent on the model before it.
    fallbacks: tuple[ModelChoice, ...] = ()
    # Budgets; None: no limit. A run that would pass one stops with its stop reason.
    max_total_tokens: int | None = None
    max_cost_usd: float | None = None
    max_duration_s: float | None = None
    # Model calls: start-to-close timeout and attempts per model (Temporal's retry policy).
    model_timeout_s: float = 60.0
    model_max_attempts: int = 10
    # Structured output: the final answer must be JSON valid against this schema.
    output_schema: dict[str, Any] | None = None
    max_output_repairs: int = 2
    # How long a tool call that requires approval waits for a person; then it is rejected.
    approval_timeout_s: float = 3600.0
    # Names of the caller-supplied variables the system prompt template declares.
    prompt_variables: tuple[str, ...] = ()
    # "continue": a tool that fails gives the model an error result and the run goes on;
    # "fail": the run fails with the tool's error. Invalid arguments always go back to the model.
    on_tool_error: OnToolError = "continue"


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0  # all prompt tokens, cached ones included
    output_tokens: int = 0
    cached_input_tokens: int = 0  # of input_tokens, served from the provider's prompt cache
    cost_usd: float = 0.0  # from the provider's price table; 0 when it has no price

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def as_dict(self) -> dict[str, int | float]:
        """As events and the API show it."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cost_usd": round(self.cost_usd, 8),
        }

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


def usage_of(body: dict[str, Any]) -> Usage:
    """The `usage` of a JSON object: a transcript body, or a RunResult as failure details."""
    raw = body.get("usage") or {}
    return Usage(
        input_tokens=int(raw.get("input_tokens", 0)),
        output_tokens=int(raw.get("output_tokens", 0)),
        cached_input_tokens=int(raw.get("cached_input_tokens", 0)),
        cost_usd=float(raw.get("cost_usd", 0.0)),
    )


@dataclass(frozen=True)
class LoopState:
    """The run's state, all of it but what waits on a person (workflows/people.py): the loop
    replaces it as the run goes (workflows/run_state.py), the `state` query and the result are
    read from it, and continue-as-new carries it whole as `RunInput.carry`.

    Its JSON is that of the `RunCarry` older runs carried (the same fields, new ones defaulted),
    so a run continued by older code decodes.
    """

    steps: int = 0
    next_seq: int = 0
    usage: Usage = field(default_factory=Usage)
    last_text: str = ""
    tool_calls: int = 0
    deadline: datetime | None = None  # from max_duration_s, fixed when the run starts
    repairs: int = 0  # structured-output repairs asked for so far
    model_choice: int = 0  # index in policy.model_choices: > 0 once failed over
    tool_errors: int = 0  # tool calls that ended in an error result (invalid arguments included)
    invalid_tool_calls: int = 0  # of those, calls whose arguments broke the tool's schema
    status: RunStatus = "running"
    stop_reason: StopReason | None = None  # set when the run ends
    error: str | None = None  # why it failed


@dataclass(frozen=True)
class RunInput:
    """Input of the AgentRun workflow. The transcript itself lives in the transcript store."""

    run_id: str
    agent: AgentSpec
    input: str
    # Messages already in this run's transcript before its input: the earlier turns of its
    # thread, copied there when the run started. Its own messages follow them.
    history: int = 0
    # Carried across continue-as-new; empty on a fresh start.
    carry: LoopState | None = None
    stream_state: WorkflowStreamState | None = None
    # A sub-agent run: the run whose tool call started it (its events are forwarded there),
    # and how deep in the tree of sub-agents it is (a top-level run: 0).
    parent_run_id: str | None = None
    depth: int = 0
    # The caller follows the run's stream from its start (POST /v1/runs `"tokens": true`):
    # its first model call streams its tokens, although no poll of the stream has come yet.
    follow: bool = False
    # The trace the run was started in (32 hex digits; "": tracing off), for its run.started.
    trace_id: str = ""


@dataclass(frozen=True)
class RunResult:
    """What a run returns (or carries as failure details)."""

    run_id: str
    agent: str
    agent_version: int
    status: RunStatus  # "completed", "stopped" or "failed"
    stop_reason: StopReason
    answer: str = ""
    steps: int = 0
    tool_calls: int = 0
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    output: Any = None  # the parsed answer, when the agent declares an output schema
    tool_errors: int = 0
    invalid_tool_calls: int = 0


@dataclass(frozen=True)
class RunState:
    """Answer of the `AgentRun.state` query: where a run is right now."""

    run_id: str
    agent: str
    agent_version: int
    status: RunStatus
    steps: int = 0
    tool_calls: int = 0
    usage: Usage = field(default_factory=Usage)
    last_text: str = ""
    stop_reason: StopReason | None = None
    tool_errors: int = 0
    invalid_tool_calls: int = 0
    error: str | None = None
    pending: tuple["PendingAction", ...] = ()  # what the run waits on a person for


@dataclass(frozen=True)
class TranscriptMessage:
    """One message of a run's conversation, as kept in the transcript store.

    A tool message answers `tool_call_id`.
    """

    role: Role
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    tool_name: str | None = None
    is_error: bool = False


@dataclass(frozen=True)
class LlmStepInput:
    """One model call. The activity reads the transcript entries [0, seq) from the store itself.

    The agent travels by reference (`spec_ref`, workflows/spec_ref.py): the activity takes the
    spec from the input of the workflow that scheduled it, the model `model_choice` names and
    the script turn of `step`. Inputs written before that carry `agent` whole instead (that
    step's model, its script window, no fallbacks).
    """

    run_id: str
    seq: int  # where the assistant message of this step is written
    step: int
    agent: AgentSpec | None = None
    # Messages the activity appends at [seq - len(prelude), seq) before reading: the user's input
    # on the first step, the results of tool calls the workflow computed (workflows/pure_tools.py).
    prelude: tuple[TranscriptMessage, ...] = ()
    spec_ref: str | None = None  # the content hash of the run's AgentSpec
    model_choice: int = 0  # index in policy.model_choices(agent): > 0 once failed over
    # False: nobody followed the run's stream when the call was scheduled; the activity still
    # streams from the provider, but publishes no `llm.delta` unless the workflow's `watched`
    # query says a subscriber came since (workflows/stream_watch.py).
    stream_tokens: bool = True


@dataclass(frozen=True)
class LlmStepResult:
    """Only what is new: the assistant's message and what it cost."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    # With an output schema, a final answer is checked: parsed, or why it does not conform.
    output: Any = None
    output_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolCallInput:
    run_id: str
    seq: int  # where the tool message with the result is written
    step: int
    call: ToolCall
    # The tool, in inputs written before `spec_ref`. None there: the model named a tool the
    # agent does not have.
    tool: ToolSpec | None = None
    # True: the workflow asks a person when the outcome is unknown, so an `outcome_unknown`
    # result is returned without being stored (the call's ledger row stays unfinished).
    ask_on_unknown: bool = False
    # True: a person approved calling again although an earlier attempt's outcome is unknown;
    # the ledger row is reopened once (config_store/call_ledger.reopen_call).
    retry_unknown: bool = False
    # The content hash of the run's AgentSpec (workflows/spec_ref.py): the activity takes the
    # tool named `call.name` from it (none: the agent has no such tool); `tool` is then None.
    spec_ref: str | None = None


@dataclass(frozen=True)
class ToolOutcome:
    """Result of one tool call. `preview` is the result, cut to a bounded size for events."""

    call_id: str
    name: str
    ok: bool
    preview: str
    truncated: bool = False
    error: str | None = None
    error_type: ToolErrorType | None = None  # why it failed; None when ok


@dataclass(frozen=True)
class RecordInput:
    """Append messages to a run's transcript at given positions (idempotent)."""

    run_id: str
    first_seq: int
    messages: tuple[TranscriptMessage, ...] = ()


# How much of a failed run's error its runs row keeps (runs.error's width).
OUTCOME_ERROR_CHARS = 500


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, for its row in the runs table (the `record_outcome` local activity)."""

    run_id: str
    status: OutcomeStatus
    finished_at: datetime
    steps: int
    total_tokens: int
    cost_usd: float
    error: str | None = None  # why it failed, cut short


@dataclass(frozen=True)
class RunEvent:
    """One domain event on the run's stream. `data` is the event's typed payload, as JSON."""

    type: str
    run_id: str
    step: int
    time: str  # ISO 8601, from workflow time
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingAction:
    """What a run waits on a person for: an approval of a tool call, or an answer."""

    kind: PendingKind
    call_id: str
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    question: str = ""
    # An approval's: why it is asked (None for a question). "outcome_unknown": approving
    # calls again although an earlier attempt may have acted.
    cause: ApprovalCause | None = None


@dataclass(frozen=True)
class ApprovalDecision:
    """Argument of the `AgentRun.resolve_approval` update."""

    call_id: str
    approve: bool
    reason: str = ""
    by: str = ""


@dataclass(frozen=True)
class ApprovalOutcome:
    call_id: str
    tool: str
    decision: ApprovalVerdict


@dataclass(frozen=True)
class UserInput:
    """Argument of the `AgentRun.provide_input` update. `call_id` may be left out when exactly
    one question is pending."""

    text: str
    call_id: str | None = None


@dataclass(frozen=True)
class InputOutcome:
    call_id: str
    question: str


@dataclass(frozen=True)
class SubagentRequest:
    """Resolve the agent a sub-agent tool calls: snapshot its version, render its prompt, and
    record the child run (argument of the `resolve_subagent` activity)."""

    parent_run_id: str
    run_id: str  # the child run's id
    agent: str
    version: int | None  # pinned when the parent started; None: the current one
    input: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChildEvents:
    """Events of a sub-agent run, forwarded to its parent (the `AgentRun.child_events` signal)."""

    run_id: str
    events: tuple[RunEvent, ...] = ()
