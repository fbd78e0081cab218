"""Stop rules and model choices: pure functions of the run's state, called by the workflow."""

from __future__ import annotations

from datetime import datetime

from workflows.types import AgentSpec, ModelChoice, ScriptTurn, Usage

# Why a run ended. "answer": the model responded without asking for tools.
ANSWER = "answer"
MAX_STEPS = "max_steps"
BUDGET_TOKENS = "budget_tokens"
BUDGET_COST = "budget_cost"
DEADLINE = "deadline"
ERROR = "error"
CANCELLED = "cancelled"

# Model failures that move a step to the next fallback once its retry budget is spent:
# the provider is overloaded, rate limited, erroring or unreachable. A rejected request
# (bad key, bad model, context too long) fails the run instead: another model would not help
# with a configuration error, and hiding one behind a fallback makes it hard to notice.
FAILOVER_ERROR_TYPES = frozenset({"ProviderUnavailable", "ProviderRateLimited", "ProviderError"})

# A tool call's error types (ToolOutcome.error_type) that an agent with on_tool_error "fail"
# fails on: the tool itself broke. Invalid arguments, an unknown tool name and a person's
# rejection are the model's (or the person's) to handle, never a reason to fail the run.
FAIL_ON_TOOL_ERROR = "fail"
TOOL_FAILURES = frozenset({"tool_error", "timeout", "subagent_failed"})


def stop_before_tools(
    agent: AgentSpec, steps_taken: int, usage: Usage, now: datetime, deadline: datetime | None
) -> str | None:
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
) -> str | None:
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
