"""What the activities count, through the Temporal SDK's metric meter: on the worker's
Prometheus endpoint when WORKER_METRICS_PORT is set (temporal/telemetry.py), nowhere otherwise.

A few adds per model or tool call, never per token. Counted when the call is made, not when a
retry finds its result already stored. The names are listed in docs/operations.md#metrics.
"""

from __future__ import annotations

from temporalio import activity

from workflows.types import Usage


def count_model_call(agent: str, provider: str, usage: Usage) -> None:
    """One model call of `agent` answered by `provider`: its tokens and its cost."""
    meter = activity.metric_meter().with_additional_attributes(
        {"agent": agent, "provider": provider}
    )
    tokens = meter.create_counter(
        "orch_llm_tokens", "Tokens of model calls, by agent, provider and direction.", "tokens"
    )
    tokens.add(usage.input_tokens, {"direction": "input"})
    tokens.add(usage.output_tokens, {"direction": "output"})
    meter.create_histogram_float(
        "orch_llm_cost_usd",
        "Cost of one model call in US dollars, by agent and provider (_sum: the total).",
        "usd",
    ).record(usage.cost_usd)


def count_tool_call(tool: str, error_type: str | None) -> None:
    """One tool call: counted, and as an error when it gave the model an error."""
    meter = activity.metric_meter().with_additional_attributes({"tool": tool})
    meter.create_counter("orch_tool_calls", "Tool calls made, by tool.").add(1)
    if error_type is not None:
        meter.create_counter(
            "orch_tool_errors", "Tool calls that gave the model an error, by tool and error type."
        ).add(1, {"error_type": error_type})
