"""Temporal's side of traces (core/tracing.py): the SDK's OpenTelemetry interceptor, on the
clients and workers of a process while tracing is on, and on none of them otherwise.

On a client it makes a span of each start, signal, query and update, and passes the current
trace along in the call's headers; on a worker, the workflow's and each activity's spans (local
activities included), children of the span that started the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from temporalio.client import Client

from core.tracing import tracer, tracing_enabled

if TYPE_CHECKING:  # imported when tracing is on only
    from temporalio.contrib.opentelemetry import TracingInterceptor

TRACER_NAME = "orch.temporal"


def client_interceptors() -> list[TracingInterceptor]:
    """What `connect` puts on a client: the tracing interceptor while tracing is on."""
    if not tracing_enabled():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(tracer(TRACER_NAME))]


def traced(interceptors: Sequence[object]) -> bool:
    """Whether a tracing interceptor is among `interceptors`."""
    if not tracing_enabled():
        return False
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return any(isinstance(i, TracingInterceptor) for i in interceptors)


def worker_interceptors(client: Client) -> list[TracingInterceptor]:
    """What a worker of `client` adds: the tracing interceptor while tracing is on, unless the
    client has one (a worker takes its client's interceptors: one more would double the spans)."""
    if traced(client.config()["interceptors"]):
        return []
    return client_interceptors()
