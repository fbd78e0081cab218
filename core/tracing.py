"""Traces (OpenTelemetry): off unless asked for.

`configure_tracing` turns them on for the process when OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, or when a test hands it an exporter; the long-running
processes call it at start and `shutdown_tracing` at stop (which flushes what is buffered).
While it is off, the API, the Temporal clients, the worker and the provider clients are built
without instrumentation (they ask `tracing_enabled()`), so a request or a step pays nothing for
it; the OpenTelemetry SDK, its exporter, the instrumentations and the SDK's Temporal interceptor
are not even imported.

The process's tracer provider is ours, not OpenTelemetry's global one (which can be set only
once per process): every instrumented part gets it from `tracer_provider()`.

Logs: while tracing is on, every log record made inside a span carries `trace_id` and `span_id`
(hex) attributes, whatever handler formats it (a log record factory sets them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

# The service name of each kind of process, unless OTEL_SERVICE_NAME names one.
API_SERVICE = "orch-api"
WORKER_SERVICE = "orch-worker"
UP_SERVICE = "orch"
TRACES_PATH = "v1/traces"


@dataclass
class _Tracing:
    provider: TracerProvider
    ours: Callable[..., logging.LogRecord]  # the log record factory we installed
    previous: Callable[..., logging.LogRecord]  # the one before it


_state: _Tracing | None = None


def traces_endpoint(settings: Settings) -> str | None:
    """Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT
    with `/v1/traces` appended (as the OTLP exporter reads them), else None (tracing off)."""
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint
    if settings.otel_exporter_otlp_endpoint:
        return f"{settings.otel_exporter_otlp_endpoint.removesuffix('/')}/{TRACES_PATH}"
    return None


def configure_tracing(
    settings: Settings, *, service_name: str = UP_SERVICE, exporter: SpanExporter | None = None
) -> bool:
    """Turn tracing on for this process if the settings name an OTLP endpoint (spans are batched
    and sent over OTLP/HTTP), or with `exporter` (each span handed to it as it ends: for tests).
    Returns whether tracing is on. A second call replaces the first configuration."""
    endpoint = traces_endpoint(settings)
    if exporter is None and endpoint is None:
        return _state is not None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    shutdown_tracing()
    # Resource.create also reads OTEL_RESOURCE_ATTRIBUTES; the sampler comes from
    # OTEL_TRACES_SAMPLER (default: parent-based, always on).
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: settings.otel_service_name or service_name})
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # Headers, timeout, compression, certificates: the exporter reads OTEL_EXPORTER_OTLP_*.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    _install(provider)
    return True


def _install(provider: TracerProvider) -> None:
    global _state
    previous = logging.getLogRecordFactory()

    def record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        stamp_trace(record)
        return record

    logging.setLogRecordFactory(record_factory)
    _state = _Tracing(provider, record_factory, previous)


def tracing_enabled() -> bool:
    return _state is not None


def tracer_provider() -> TracerProvider | None:
    """The process's tracer provider while tracing is on."""
    return _state.provider if _state is not None else None


def tracer(name: str) -> Tracer:
    """A tracer of the process's provider. Only while tracing is on."""
    if _state is None:
        raise RuntimeError("tracing is off")
    return _state.provider.get_tracer(name)


def shutdown_tracing() -> None:
    """Send what is buffered and turn tracing off (nothing happens if it is off)."""
    global _state
    if _state is None:
        return
    state, _state = _state, None
    if logging.getLogRecordFactory() is state.ours:  # else another was put on top: it stays
        logging.setLogRecordFactory(state.previous)
    state.provider.shutdown()  # flushes every processor


def current_ids() -> tuple[str, str] | None:
    """The current span's (trace id, span id) in hex, or None (no span, or tracing off)."""
    if _state is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


def current_trace_id() -> str:
    """The current trace's id (32 hex digits), or "" outside a span or with tracing off."""
    ids = current_ids()
    return ids[0] if ids is not None else ""


def stamp_trace(record: logging.LogRecord) -> None:
    """Give `record` the current span's `trace_id` and `span_id`, if there is one."""
    ids = current_ids()
    if ids is not None:
        record.trace_id, record.span_id = ids
