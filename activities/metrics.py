"""What the activities count, through the Temporal SDK's metric meter: on the worker's
Prometheus endpoint when WORKER_METRICS_PORT is set (temporal/telemetry.py), nowhere otherwise.

A few adds per model or tool call, never per token. Counted when the call is made, not when a
retry finds its result already stored. The names are listed in docs/operations.md#metrics.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity
from temporalio.common import MetricCounter, MetricHistogramFloat

from workflows.types import Usage


@dataclass(frozen=True)
class _ModelMetrics:
    input_tokens: MetricCounter
    output_tokens: MetricCounter
    cost: MetricHistogramFloat


class CallMetrics:
    """The counters of one worker's activities. Making the metrics of a label set costs more
    than adding to them (measured with the Prometheus exporter on: ~26 µs a model call when
    made afresh, ~5 µs when kept), so each label set's are made at its first call and kept: a
    few per agent and provider, and per tool and error type."""

    def __init__(self) -> None:
        self._model: dict[tuple[str, str, str], _ModelMetrics] = {}
        self._tools: dict[tuple[str, str, str | None], tuple[MetricCounter, MetricCounter]] = {}

    def model_call(self, agent: str, provider: str, usage: Usage) -> None:
        """One model call of `agent` answered by `provider`: its tokens and its cost."""
        key = (activity.info().task_queue, agent, provider)
        found = self._model.get(key)
        if found is None:
            meter = activity.metric_meter().with_additional_attributes(
                {"agent": agent, "provider": provider}
            )
            tokens = meter.create_counter(
                "orch_llm_tokens", "Tokens of model calls, by agent, provider and direction."
            )
            found = self._model[key] = _ModelMetrics(
                input_tokens=tokens.with_additional_attributes({"direction": "input"}),
                output_tokens=tokens.with_additional_attributes({"direction": "output"}),
                cost=meter.create_histogram_float(
                    "orch_llm_cost_usd",
                    "Cost of one model call in US dollars, by agent and provider (_sum: total).",
                ),
            )
        found.input_tokens.add(usage.input_tokens)
        found.output_tokens.add(usage.output_tokens)
        found.cost.record(usage.cost_usd)

    def tool_call(self, tool: str, error_type: str | None) -> None:
        """One tool call: counted, and as an error when it gave the model an error."""
        key = (activity.info().task_queue, tool, error_type)
        found = self._tools.get(key)
        if found is None:
            meter = activity.metric_meter().with_additional_attributes({"tool": tool})
            calls = meter.create_counter("orch_tool_calls", "Tool calls made, by tool.")
            errors = meter.create_counter(
                "orch_tool_errors", "Tool calls that gave the model an error, by tool and type."
            ).with_additional_attributes({"error_type": error_type or ""})
            found = self._tools[key] = (calls, errors)
        calls, errors = found
        calls.add(1)
        if error_type is not None:
            errors.add(1)
