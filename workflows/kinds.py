"""The closed sets of the system, each written once: kinds of providers, tools and MCP transports,
and the run's own: its status, why it stopped, what it waits on a person for, how a tool call
failed, the roles of its transcript.

The boundary types (workflows/types.py), the SQL CHECK constraints (config_store/models.py), the
API schemas and the docs take their values from here, so mypy and the tests catch a set that
drifts. `get_args(ToolKind)` gives the values as a tuple where a list is needed.
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

ProviderKind = Literal["openai", "anthropic", "openai_compatible", "scripted"]
ToolKind = Literal[
    "calculator",
    "read_file",
    "ask_user",
    "write_file",
    "list_files",
    "http",
    "http_request",
    "web_search",
    "doc_search",
    "github",
    "mcp",
    "agent",
]
McpTransport = Literal["stdio", "http"]
# The tool kinds that compute from their arguments alone, in moments: no side effect, no I/O.
# Their calls run as local activities (workflows/tool_steps.py), and a retried call computes
# again rather than looking up an earlier attempt's stored result (activities/tools/activity.py).
PURE_TOOL_KINDS: frozenset[ToolKind] = frozenset({"calculator"})

# Where a run is: "running" until it ends one of the other four ways.
RunStatus = Literal["running", "completed", "stopped", "failed", "cancelled"]
# How a run ended, as the worker records it in the runs table (config_store/runs.py): the
# statuses of RunStatus but "running" (a run closed from outside the loop, terminated or timed
# out, records none).
OutcomeStatus = Literal["completed", "stopped", "failed", "cancelled"]
# A run's status as Temporal visibility lists it (`GET /v1/runs?status=`): Temporal's execution
# status, so a run the loop ended "stopped" is "completed" here.
ListedStatus = Literal["running", "completed", "failed", "cancelled", "terminated", "timed_out"]
# Why a run ended (workflows/policy.py names each): "answer" when the model answered, a budget,
# "error" for a failed run, "cancelled".
StopReason = Literal[
    "answer", "max_steps", "budget_tokens", "budget_cost", "deadline", "error", "cancelled"
]
# What a run waits on a person for: an approval of a tool call, or an answer to `ask_user`.
PendingKind = Literal["approval", "input"]
# Why a person is asked to approve a call: its tool requires approval, or its earlier attempt's
# outcome is unknown and its tool says `on_unknown_outcome: ask` (the approval is of a retry).
ApprovalCause = Literal["requires_approval", "outcome_unknown"]
# A person's decision on a call waiting for approval; "expired": nobody decided in time.
ApprovalVerdict = Literal["approved", "rejected"]
ApprovalResolution = Literal["approved", "rejected", "expired"]
# How a tool call failed (ToolOutcome.error_type): its arguments broke the tool's schema, the
# agent has no such tool, the tool reported an error, it never reported (timed out), a person
# rejected it (or nobody answered), a sub-agent run failed, or a non-idempotent call's earlier
# attempt was cut off (the worker stopped during it) and was not repeated.
ToolErrorType = Literal[
    "invalid_arguments",
    "unknown_tool",
    "tool_error",
    "timeout",
    "rejected",
    "subagent_failed",
    "outcome_unknown",
]
# What a failed tool call does to the run (an agent's `on_tool_error`): nothing, or fail it.
OnToolError = Literal["continue", "fail"]
# What a non-idempotent tool's call whose outcome is unknown does (a tool's
# `on_unknown_outcome`): the model gets `outcome_unknown`, or a person is asked to approve a retry.
OnUnknownOutcome = Literal["report", "ask"]
# Who a transcript message is from.
Role = Literal["user", "assistant", "tool"]
# What an API token may do, each including the ones before it (api/auth.py): read < run < admin.
TokenScope = Literal["read", "run", "admin"]

PROVIDER_KINDS: tuple[ProviderKind, ...] = get_args(ProviderKind)
TOOL_KINDS: tuple[ToolKind, ...] = get_args(ToolKind)
MCP_TRANSPORTS: tuple[McpTransport, ...] = get_args(McpTransport)
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
OUTCOME_STATUSES: tuple[OutcomeStatus, ...] = get_args(OutcomeStatus)
LISTED_STATUSES: tuple[ListedStatus, ...] = get_args(ListedStatus)
STOP_REASONS: tuple[StopReason, ...] = get_args(StopReason)
TOOL_ERROR_TYPES: tuple[ToolErrorType, ...] = get_args(ToolErrorType)
ON_UNKNOWN_OUTCOMES: tuple[OnUnknownOutcome, ...] = get_args(OnUnknownOutcome)
ROLES: tuple[Role, ...] = get_args(Role)
TOKEN_SCOPES: tuple[TokenScope, ...] = get_args(TokenScope)

K = TypeVar("K", bound=str)


def member(values: tuple[K, ...], value: object) -> K | None:
    """`value` as one of `values` (a closed set read back from JSON), or None when it is not."""
    return next((v for v in values if v == value), None)


def parse(values: tuple[K, ...], value: object, what: str) -> K:
    """`value` as one of `values`; ValueError naming `what` when it is not."""
    found = member(values, value)
    if found is None:
        raise ValueError(f"{value!r} is not a {what}: expected one of {', '.join(values)}")
    return found
