"""Stop rules and model choices: pure functions of the run's state, called by the workflow."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from workflows.kinds import OnToolError, StopReason, ToolErrorType
from workflows.types import AgentSpec, ModelChoice, ScriptTurn, Usage

# Why a run ended. "answer": the model responded without asking for tools.
ANSWER: Final[StopReason] = "answer"
MAX_STEPS: Final[StopReason] = "max_steps"
BUDGET_TOKENS: Final[StopReason] = "budget_tokens"
BUDGET_COST: Final[StopReason] = "budget_cost"
DEADLINE: Final[StopReason] = "deadline"
ERROR: Final[StopReason] = "error"
CANCELLED: Final[StopReason] = "cancelled"

# Model failures that move a step to the next fallback once its retry budget is spent:
# the provider is overloaded, rate limited, erroring or unreachable. A rejected request
# (bad key, bad model, context too long) fails the run instead: another model would not help
# with a configuration error, and hiding one behind a fallback makes it hard to notice.
FAILOVER_ERROR_TYPES = frozenset({"ProviderUnavailable", "ProviderRateLimited", "ProviderError"})

# A tool call's error types (ToolOutcome.error_type) that an agent with on_tool_error "fail"
# fails on: the tool itself broke. Invalid arguments, an unknown tool name and a person's
# rejection are the model's (or the person's) to handle, never a reason to fail the run.
FAIL_ON_TOOL_ERROR: OnToolError = "fail"
TOOL_FAILURES: frozenset[ToolErrorType] = frozenset(
    {"tool_error", "timeout", "subagent_failed", "outcome_unknown"}
)


def stop_before_tools(
    agent: AgentSpec, steps_taken: int, usage: Usage, now: datetime, deadline: datetime | None
) -> StopReason | None:
    """Whether to stop instead of running the tools the model just asked for.

    Each limit is checked before the work that would pass it: `max_steps` counts model calls,
    and when the last allowed call (or spent budget) still asks for tools, running them would
    produce results no model call will read.
    """
    if steps_taken >= agent.max_steps:
        return MAX_STEPS
    return budget_spent(agent, usage, now, deadline)


def budget_spent(
    agent: AgentSpec, usage: Usage, now: datetime, deadline: datetime | None
) -> StopReason | None:
    """The budget the run has used up, if any; checked before every model call."""
    if agent.max_total_tokens is not None and usage.total_tokens >= agent.max_total_tokens:
        return BUDGET_TOKENS
    if agent.max_cost_usd is not None and usage.cost_usd >= agent.max_cost_usd:
        return BUDGET_COST
    if deadline is not None and now >= deadline:
        return DEADLINE
    return None


def model_choices(agent: AgentSpec) -> tuple[ModelChoice, ...]:
    """The primary model, then the fallbacks, in the order they are tried."""
    return (ModelChoice(provider=agent.provider, model=agent.model), *agent.fallbacks)


def fails_over(error_type: str | None, timed_out: bool) -> bool:
    return timed_out or error_type in FAILOVER_ERROR_TYPES


def script_window(script: tuple[ScriptTurn, ...], step_index: int) -> tuple[ScriptTurn, ...]:
    """The part of an offline model's script that model call `step_index` (0-based) needs.

    Sending the whole script into every call would make the history grow with steps x script
    length. Past the end the script keeps answering with its last turn's text.
    """
    if not script:
        return ()
    if step_index < len(script):
        return (script[step_index],)
    return (ScriptTurn(text=script[-1].text),)


def repair_request(errors: tuple[str, ...]) -> str:
    """What the model is told when its answer does not match the output schema."""
    listed = "\n".join(f"- {e}" for e in errors)
    return (
        "Your answer does not match the required JSON schema:\n"
        f"{listed}\n"
        "Reply again with only the corrected JSON value, nothing else."
    )


# Sub-agents may call sub-agents, this deep at most: a cycle (an agent that is its own tool,
# directly or not) ends as an error result instead of a runaway tree of runs.
MAX_SUBAGENT_DEPTH = 4


def child_limits(
    child: AgentSpec,
    parent: AgentSpec,
    spent: Usage,
    remaining: timedelta | None,
    share: int,
) -> AgentSpec:
    """The child's own budgets, capped by what the parent has left, split evenly between the
    `share` sub-agent calls of one turn (they run at once). The child's usage is added to the
    parent's when it ends, so together they never pass the parent's budget by more than a step.
    """
    tokens = child.max_total_tokens
    if parent.max_total_tokens is not None:
        left = max(1, (parent.max_total_tokens - spent.total_tokens) // share)
        tokens = left if tokens is None else min(tokens, left)
    cost = child.max_cost_usd
    if parent.max_cost_usd is not None:
        left_usd = max(0.0, parent.max_cost_usd - spent.cost_usd) / share
        cost = left_usd if cost is None else min(cost, left_usd)
    duration = child.max_duration_s
    if remaining is not None:
        seconds = max(0.001, remaining.total_seconds())
        duration = seconds if duration is None else min(duration, seconds)
    return replace(child, max_total_tokens=tokens, max_cost_usd=cost, max_duration_s=duration)
