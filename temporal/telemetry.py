"""The worker's Prometheus endpoint: the Temporal SDK's own exporter, from settings.

With WORKER_METRICS_PORT set, the client the worker connects with runs on a `Runtime` whose
telemetry serves `http://WORKER_METRICS_HOST:WORKER_METRICS_PORT/metrics`: the SDK's metrics
(`temporal_…`: workflow and activity tasks, polls, requests, the sticky cache) and ours, which
activities and the workflow count through the SDK's metric meter (`orch_…`,
activities/metrics.py, workflows/metrics.py). Counters end in `_total`, durations are in
seconds. A runtime is a thread pool of its own and binds its port: one per bind address per
process, kept for the process's life.
"""

from __future__ import annotations

import functools

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core.errors import OrchError
from core.settings import Settings

# Cost of one model call in US dollars (the SDK's default buckets start at 0.05).
COST_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)


@functools.cache
def _runtime(bind_address: str) -> Runtime:
    try:
        return Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(
                    bind_address=bind_address,
                    counters_total_suffix=True,
                    durations_as_seconds=True,
                    histogram_bucket_overrides={"orch_llm_cost_usd": COST_BUCKETS},
                )
            )
        )
    except Exception as err:  # the SDK's bridge error: the address is taken or malformed
        raise OrchError(
            f"cannot serve the worker's metrics on {bind_address}: {err} "
            "(set WORKER_METRICS_PORT to a free port, or unset it)",
            code="worker_metrics_unavailable",
        ) from None


def worker_runtime(settings: Settings) -> Runtime | None:
    """The runtime serving the worker's metrics, or None (the SDK's default runtime) when
    WORKER_METRICS_PORT is not set."""
    if settings.worker_metrics_port is None:
        return None
    host = settings.worker_metrics_host
    if ":" in host and not host.startswith("["):  # an IPv6 address
        host = f"[{host}]"
    return _runtime(f"{host}:{settings.worker_metrics_port}")
