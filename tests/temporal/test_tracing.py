"""Traces (core/tracing.py): one run started over HTTP is one connected tree of spans, from
POST /v1/runs through the workflow and its activities to the provider's HTTP call; with tracing
off nothing is instrumented; with an OTLP endpoint the spans reach it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from time import time_ns
from typing import Any

import httpx
import pytest
import pytest_asyncio
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from activities.llm import openai_provider
from activities.llm.anthropic_provider import AnthropicProvider
from activities.llm.traced_http import TracedTransport
from activities.tools.base import OutboundPolicy, ToolContext
from activities.tools.net import fetch
from api.app import create_app
from config_store.transcript import TranscriptStore
from core.logs import JsonFormatter
from core.settings import Settings
from core.tracing import (
    API_SERVICE,
    WORKER_SERVICE,
    configure_tracing,
    shutdown_tracing,
    tracer,
    tracing_enabled,
)
from orch import serve
from temporal.client import connect
from temporal.worker import build_worker
from tests.fakes.http_api_server import FakeHttpApiServer
from tests.fakes.provider_server import FakeProviderServer, FakeReply, FakeToolCall
from tests.support.auth import AUTH
from tests.support.llm import API_KEY, anthropic_spec, request
from tests.support.runs import define_subagent, demo_spec, events_of, run_agent
from tests.support.sse import read_events
from tests.support.temporal import REPO, free_port, serving
from workflows.types import ProviderSpec, RunResult

pytestmark = pytest.mark.timeout(120)

KEY_ENV = "ORCH_TEST_TRACING_KEY"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the test, every span handed to an in-memory exporter as it ends."""
    exporter = InMemorySpanExporter()
    factory = logging.getLogRecordFactory()
    assert configure_tracing(Settings(), exporter=exporter)
    yield exporter
    shutdown_tracing()
    assert not tracing_enabled() and logging.getLogRecordFactory() is factory


@pytest_asyncio.fixture
async def traced_api(
    spans: InMemorySpanExporter,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: sessionmaker[Session],
) -> AsyncIterator[str]:
    """A worker and the API, both built while tracing is on. The worker's client (the test
    environment's) has no tracing interceptor: the worker adds its own."""
    worker = build_worker(temporal_client, orch_settings, TranscriptStore(seeded))
    assert sum(isinstance(i, TracingInterceptor) for i in worker.config()["interceptors"]) == 1
    async with worker, serving(orch_settings) as url:
        yield url


async def _agent_with_calculator(http: httpx.AsyncClient, fake: FakeProviderServer) -> str:
    name = f"traced-{uuid.uuid4().hex[:8]}"
    provider = {
        "name": name,
        "kind": "openai_compatible",
        "base_url": fake.openai_base_url,
        "api_key_env": KEY_ENV,
    }
    assert (await http.post("/v1/providers", json=provider)).status_code == 201
    agent = {"name": name, "provider": name, "model": "m", "tools": ["calculator", "read_file"]}
    assert (await http.post("/v1/agents", json=agent)).status_code == 201
    return name


def _children(spans: list[ReadableSpan]) -> dict[int, list[ReadableSpan]]:
    tree: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        if span.parent is not None:
            tree.setdefault(span.parent.span_id, []).append(span)
    return tree


def _span_id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def _one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    [span] = [s for s in spans if s.name == name]
    return span


def _under(span: ReadableSpan, tree: dict[int, list[ReadableSpan]]) -> list[ReadableSpan]:
    return tree.get(_span_id(span), [])


async def test_one_run_is_one_connected_tree(
    traced_api: str,
    spans: InMemorySpanExporter,
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(KEY_ENV, "k")
    caplog.set_level(logging.DEBUG, logger="activities.llm.clients")
    # A calculator step (computed by the workflow: no span), a read_file step (an activity), then
    # the answer.
    fake_provider.queue_tool_calls([FakeToolCall("calculator", {"expression": "12*7"})])
    fake_provider.queue_tool_calls([FakeToolCall("read_file", {"path": "notes.txt"})])
    fake_provider.queue_text("It is 84.")
    async with httpx.AsyncClient(base_url=traced_api, timeout=30, headers=AUTH) as http:
        agent = await _agent_with_calculator(http, fake_provider)
        spans.clear()  # the setup's requests are traces of their own
        response = await http.post("/v1/runs", json={"agent": agent, "input": "12*7?"})
        assert response.status_code == 202, response.text
        run_id = response.json()["run_id"]
        # Waited for through the test's own client, which traces nothing.
        handle = temporal_client.get_workflow_handle(run_id, result_type=RunResult)
        assert (await handle.result()).answer == "It is 84."
        finished = list(spans.get_finished_spans())
        events = await read_events(http, response.json()["events_url"])

    # One trace, one root: the API's span of POST /v1/runs.
    trace_ids = {s.context.trace_id for s in finished if s.context is not None}
    assert len(trace_ids) == 1, sorted(s.name for s in finished)
    [trace_id] = trace_ids
    roots = [s for s in finished if s.parent is None]
    assert [(r.name, r.kind) for r in roots] == [("POST /v1/runs", SpanKind.SERVER)]
    # Connected: every other span's parent is a span of the tree.
    ids = {_span_id(s) for s in finished}
    assert all(s.parent.span_id in ids for s in finished if s.parent is not None)

    tree = _children(finished)
    start = _one(_under(roots[0], tree), "StartWorkflow:AgentRun")
    workflow = _one(_under(start, tree), "RunWorkflow:AgentRun")
    assert workflow.kind == SpanKind.SERVER
    assert workflow.attributes is not None and workflow.attributes["temporalWorkflowID"] == run_id
    # The SDK's interceptor makes the workflow's spans children of the start's: the workflow's
    # run, then each activity's start in order (local ones too), each with its run under it,
    # and the workflow's completion.
    under_start = sorted(_under(start, tree), key=lambda s: s.start_time or 0)
    assert [s.name for s in under_start] == [
        "RunWorkflow:AgentRun",
        "StartActivity:llm_step",
        "StartActivity:llm_step",  # the calculator's result is its prelude
        "StartActivity:tool_call",  # read_file
        "StartActivity:llm_step",
        "StartActivity:record_outcome",
        "CompleteWorkflow:AgentRun",
    ]
    runs: dict[str, list[ReadableSpan]] = {}
    for scheduled in under_start[1:-1]:
        name = scheduled.name.removeprefix("StartActivity:")
        [run] = _under(scheduled, tree)
        assert run.name == f"RunActivity:{name}" and run.kind == SpanKind.SERVER
        runs.setdefault(name, []).append(run)
    # The provider's HTTP call: a client span under each model step.
    calls = []
    for step in runs["llm_step"]:
        [call] = _under(step, tree)
        assert call.kind == SpanKind.CLIENT and call.name == "POST"
        assert call.attributes is not None
        assert call.attributes["url.full"] == f"{fake_provider.openai_base_url}/chat/completions"
        assert call.attributes["http.response.status_code"] == 200
        calls.append(call)
    # ... which sent the provider the trace, as its W3C traceparent header.
    sent = [r.headers["traceparent"].split("-") for r in fake_provider.requests]
    assert [parts[:3] for parts in sent] == [
        ["00", format_trace_id(trace_id), format_span_id(_span_id(c))] for c in calls
    ]
    assert all(int(parts[3], 16) & 1 for parts in sent)  # sampled

    # The run's first event names the trace.
    started = events[0].data
    assert started["type"] == "run.started"
    assert started["data"]["trace_id"] == format_trace_id(trace_id)

    # A record logged in the model step (its client built) carries the step's span.
    [built] = [r for r in caplog.records if r.getMessage().startswith("new openai_compatible")]
    first_step = min(runs["llm_step"], key=lambda s: s.start_time or 0)
    assert getattr(built, "trace_id", None) == format_trace_id(trace_id)
    assert getattr(built, "span_id", None) == format_span_id(_span_id(first_step))
    line = json.loads(JsonFormatter().format(built))  # and the JSON log line shows them
    assert (line["trace_id"], line["span_id"]) == (built.trace_id, built.span_id)


async def test_a_followers_stream_polls_are_in_the_run_and_its_request_in_its_own(
    traced_api: str,
    spans: InMemorySpanExporter,
    fake_provider: FakeProviderServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, "k")
    # The model takes 2 s: the stream is followed while the run goes on.
    fake_provider.queue_reply(FakeReply(text="done", delay=2.0))
    async with httpx.AsyncClient(base_url=traced_api, timeout=30, headers=AUTH) as http:
        agent = await _agent_with_calculator(http, fake_provider)
        response = await http.post("/v1/runs", json={"agent": agent, "input": "hi"})
        assert response.status_code == 202, response.text
        events = await read_events(http, response.json()["events_url"])
    assert events[-1].event == "run.completed"
    finished = spans.get_finished_spans()
    by_trace: dict[str, set[str]] = {}
    for span in finished:
        assert span.context is not None
        by_trace.setdefault(format_trace_id(span.context.trace_id), set()).add(span.name)
    run = by_trace.pop(events[0].data["data"]["trace_id"])
    assert {"POST /v1/runs", "RunWorkflow:AgentRun"} <= run
    assert "HandleUpdate:__temporal_workflow_stream_poll" in run  # the workflow answering polls
    [stream] = [names for names in by_trace.values() if "GET /v1/runs/{run_id}/events" in names]
    assert "StartWorkflowUpdate:__temporal_workflow_stream_poll" in stream  # the API polling
    assert not stream & run


async def test_an_incoming_traceparent_is_continued(
    traced_api: str, spans: InMemorySpanExporter
) -> None:
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {**AUTH, "traceparent": f"00-{trace_id}-{parent}-01"}
    async with httpx.AsyncClient(base_url=traced_api, timeout=30, headers=headers) as http:
        response = await http.post("/v1/runs", json={"agent": "demo", "input": "hi"})
        assert response.status_code == 202, response.text
        events = await read_events(http, response.json()["events_url"])
    assert events[0].data["data"]["trace_id"] == trace_id
    [post] = [s for s in spans.get_finished_spans() if s.name == "POST /v1/runs"]
    assert post.parent is not None and format_span_id(post.parent.span_id) == parent


async def test_a_sub_agent_run_is_in_its_parents_trace(
    spans: InMemorySpanExporter,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: sessionmaker[Session],
) -> None:
    client = await connect(orch_settings)  # built while tracing is on: it traces
    spec = define_subagent(seeded, {}, {})
    async with build_worker(temporal_client, orch_settings, TranscriptStore(seeded)):
        with tracer("test").start_as_current_span("caller") as caller:
            run_id, _ = await run_agent(client, orch_settings, spec, "delegate")
        events = await events_of(temporal_client, run_id)
    trace_id = format_trace_id(caller.get_span_context().trace_id)
    assert events[0]["type"] == "run.started" and events[0]["data"]["trace_id"] == trace_id
    [relayed] = [
        e["data"]["event"]
        for e in events
        if e["type"] == "subagent.event" and e["data"]["event"]["type"] == "run.started"
    ]
    assert relayed["data"]["trace_id"] == trace_id
    finished = spans.get_finished_spans()
    [start_child] = [s for s in finished if s.name == "StartChildWorkflow:AgentRun"]
    assert start_child.context is not None
    assert format_trace_id(start_child.context.trace_id) == trace_id
    # The child's run hangs under that start.
    child_id = next(e["data"]["run_id"] for e in events if e["type"] == "subagent.started")
    [child_run] = [
        s
        for s in finished
        if s.name == "RunWorkflow:AgentRun"
        and (s.attributes or {}).get("temporalWorkflowID") == child_id
    ]
    assert child_run.parent is not None
    assert child_run.parent.span_id == start_child.context.span_id


async def test_a_run_started_without_a_trace_makes_no_workflow_spans(
    spans: InMemorySpanExporter,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: sessionmaker[Session],
) -> None:
    spec = demo_spec(seeded)  # the scripted model: a calculator call, then the answer
    async with build_worker(temporal_client, orch_settings, TranscriptStore(seeded)):
        run_id, _ = await run_agent(temporal_client, orch_settings, spec, "12*7?")
        events = await events_of(temporal_client, run_id)
    finished = spans.get_finished_spans()
    assert not [s for s in finished if "Workflow" in s.name]
    activities = [s for s in finished if s.name.startswith("RunActivity:")]
    assert {s.name for s in activities} >= {"RunActivity:llm_step", "RunActivity:record_outcome"}
    # Each a root, of a trace of its own.
    assert all(s.parent is None for s in activities)
    assert len({s.context.trace_id for s in activities if s.context is not None}) == len(activities)
    assert "trace_id" not in events[0]["data"]


async def test_a_streamed_anthropic_call_is_one_span_to_the_streams_end(
    spans: InMemorySpanExporter, fake_provider: FakeProviderServer
) -> None:
    spec = anthropic_spec(fake_provider.anthropic_base_url)
    fake_provider.queue_reply(FakeReply(text="one two three", chunk_delay=0.05))
    deltas: list[int] = []
    ask = replace(request(spec, model="claude-m"), on_delta=lambda _: deltas.append(time_ns()))
    with tracer("test").start_as_current_span("model step") as step:
        async with AnthropicProvider(spec, API_KEY) as provider:
            assert (await provider.complete(ask)).text == "one two three"
    [call] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert call.parent is not None and call.parent.span_id == step.get_span_context().span_id
    assert call.attributes is not None and call.attributes["http.response.status_code"] == 200
    assert deltas and call.end_time is not None and call.end_time >= deltas[-1]
    assert call.context is not None
    [sent] = fake_provider.requests
    assert sent.headers["traceparent"].split("-")[1:3] == [
        format_trace_id(call.context.trace_id),
        format_span_id(call.context.span_id),
    ]


async def test_a_tools_http_call_is_a_client_span_that_sends_the_trace(
    spans: InMemorySpanExporter, http_api_server: FakeHttpApiServer
) -> None:
    http_api_server.reset()
    ctx = ToolContext(
        workspace_dir=Path("."), outbound=OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    )
    with tracer("test").start_as_current_span("tool step") as step:
        result = await fetch(ctx, "GET", f"{http_api_server.base_url}/items?q=secret")
    assert result.status == 200
    [hop] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert hop.parent is not None and hop.parent.span_id == step.get_span_context().span_id
    assert hop.context is not None and hop.attributes is not None
    assert hop.attributes["http.url"] == f"{http_api_server.base_url}/items"  # no query
    [request] = http_api_server.requests
    _, trace_id, span_id, _ = request.headers["traceparent"].split("-")
    assert (trace_id, span_id) == (
        format_trace_id(hop.context.trace_id),
        format_span_id(hop.context.span_id),
    )


async def test_off_nothing_is_instrumented(
    api_url: str, orch_settings: Settings, seeded: sessionmaker[Session]
) -> None:
    assert not tracing_enabled()
    client = await connect(orch_settings)
    assert client.config()["interceptors"] == []
    worker = build_worker(client, orch_settings, TranscriptStore(seeded))
    assert not any(
        isinstance(i, TracingInterceptor) for i in worker.config(active_config=True)["interceptors"]
    )
    app = create_app(orch_settings)
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    sdk = openai_provider.new_client(ProviderSpec(name="p", kind="openai"), "k")
    assert not isinstance(sdk._client._transport, TracedTransport)  # the SDK's own client
    await sdk.close()

    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        response = await http.post("/v1/runs", json={"agent": "demo", "input": "hi"})
        assert response.status_code == 202, response.text
        events = await read_events(http, response.json()["events_url"])
    assert events[0].event == "run.started" and "trace_id" not in events[0].data["data"]


OFF_PROCESS = """
import sys
from api.app import create_app
from core.settings import Settings
from orch import serve
from temporal import worker
from activities.llm import openai_provider
from workflows.types import ProviderSpec

create_app(Settings())
openai_provider.new_client(ProviderSpec(name="p", kind="openai"), "k")
print(sorted(m for m in sys.modules if m.startswith(
    ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation",
     "temporalio.contrib.opentelemetry")
)))
"""


def test_off_the_sdk_and_the_instrumentations_are_not_even_imported() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", OFF_PROCESS],
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]]
    arrived: threading.Event

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], body))
        type(self).arrived.set()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, type[_Collector]]]:
    """A tiny OTLP/HTTP collector: records the POSTs it receives."""
    handler = type("Collector", (_Collector,), {"received": [], "arrived": threading.Event()})
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", handler
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_spans_go_over_otlp_to_the_endpoint(
    collector: tuple[str, type[_Collector]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = collector
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    settings = Settings(otel_exporter_otlp_endpoint=url + "/")
    try:
        assert configure_tracing(settings, service_name=WORKER_SERVICE)
        with tracer("test").start_as_current_span("a span"):
            pass
    finally:
        shutdown_tracing()  # flushes the batch
    assert received.arrived.wait(timeout=10)
    [(path, content_type, body)] = received.received
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == WORKER_SERVICE
    assert [s.name for scope in resource_spans.scope_spans for s in scope.spans] == ["a span"]


async def test_the_serving_processes_trace_while_they_run(
    collector: tuple[str, type[_Collector]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = collector
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    async with serve._tracing(Settings(otel_exporter_otlp_endpoint=url), API_SERVICE):
        assert tracing_enabled()
        with tracer("test").start_as_current_span("served"):
            pass
    assert not tracing_enabled()  # and what was buffered is sent:
    assert received.arrived.wait(timeout=10)
    request = ExportTraceServiceRequest.FromString(received.received[0][2])
    [resource_spans] = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == API_SERVICE


def test_no_endpoint_no_tracing() -> None:
    assert not configure_tracing(Settings(otel_exporter_otlp_endpoint=None))
    assert not tracing_enabled()
