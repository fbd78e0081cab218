"""The API's Prometheus metrics (GET /metrics): requests, event streams, runs.

One registry per app (never prometheus_client's global one: a process may build several apps).
Three kinds of figure:

- counted in this process: `orch_http_request_duration_seconds` (by route template, method and
  status, from `HttpMetrics`, a pure ASGI middleware) and `orch_runs_started_total` (by agent,
  where the API starts a run);
- read from the event hub at scrape time: `orch_sse_connections`, `orch_sse_runs_followed`;
- read from the runs table at scrape time, cluster-wide (every API replica reports the same
  figures): `orch_runs_finished_total`, `orch_runs_unfinished`, `orch_run_tokens_total`,
  `orch_run_cost_usd_total`. One GROUP BY query, its answer kept `RUNS_CACHE_S` seconds, so that
  a burst of scrapes reads the table once.

The names, types and labels are listed in docs/operations.md#metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.sse import EventHub
from config_store.stats import OutcomeTotals, outcome_totals

log = logging.getLogger(__name__)

RUNS_CACHE_S = 5.0
# The route label of a request no route matched (its raw path would make a label per URL).
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
EVENT_STREAM = b"text/event-stream"


class RunsCollector(Collector):
    """The runs table's figures by agent (and outcome), read at scrape time, cached."""

    def __init__(self, factory: Callable[[], sessionmaker[Session] | None]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._rows: list[OutcomeTotals] = []

    def _totals(self) -> list[OutcomeTotals] | None:
        with self._lock:
            if time.monotonic() - self._read_at < RUNS_CACHE_S:
                return self._rows
            factory = self._factory()
            if factory is None:  # the app has not started
                return None
            try:
                with factory() as session:
                    self._rows = outcome_totals(session)
            except SQLAlchemyError as err:
                log.warning("metrics: cannot read the runs table: %s", type(err).__name__)
                return None
            self._read_at = time.monotonic()
            return self._rows

    def collect(self) -> Iterator[Metric]:
        rows = self._totals()
        if rows is None:
            return
        finished = CounterMetricFamily(
            "orch_runs_finished",
            "Runs whose outcome is recorded in the runs table, by agent and status.",
            labels=["agent", "status"],
        )
        unfinished = GaugeMetricFamily(
            "orch_runs_unfinished",
            "Runs in the runs table with no outcome recorded: running, or closed from outside.",
            labels=["agent"],
        )
        tokens = CounterMetricFamily(
            "orch_run_tokens",
            "Tokens (input and output) of the finished runs in the runs table, by agent.",
            labels=["agent"],
        )
        cost = CounterMetricFamily(
            "orch_run_cost_usd",
            "Cost in US dollars of the finished runs in the runs table, by agent.",
            labels=["agent"],
        )
        waiting: dict[str, int] = {}
        spent: dict[str, tuple[int, float]] = {}
        for row in rows:
            waiting.setdefault(row.agent, 0)
            if row.status is None:
                waiting[row.agent] += row.runs
                continue
            finished.add_metric([row.agent, row.status], row.runs)
            spent_tokens, spent_cost = spent.get(row.agent, (0, 0.0))
            spent[row.agent] = (spent_tokens + row.total_tokens, spent_cost + row.cost_usd)
        for agent, count in sorted(waiting.items()):  # 0 for an agent whose runs all ended
            unfinished.add_metric([agent], count)
        for agent, (spent_tokens, spent_cost) in sorted(spent.items()):
            tokens.add_metric([agent], spent_tokens)
            cost.add_metric([agent], spent_cost)
        yield from (finished, unfinished, tokens, cost)


class StreamsCollector(Collector):
    """How many SSE clients follow runs through the event hub, and how many runs, right now."""

    def __init__(self, hub: Callable[[], EventHub | None]) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self._hub()
        yield GaugeMetricFamily(
            "orch_sse_connections",
            "Open event streams (GET /v1/runs/{run_id}/events) following a run live.",
            value=hub.readers if hub is not None else 0,
        )
        yield GaugeMetricFamily(
            "orch_sse_runs_followed",
            "Runs the API holds a Temporal stream subscription for (one per run, any readers).",
            value=len(hub.watched) if hub is not None else 0,
        )


class ApiMetrics:
    """The registry of one app and the figures it counts itself."""

    def __init__(
        self,
        *,
        session_factory: Callable[[], sessionmaker[Session] | None],
        hub: Callable[[], EventHub | None],
    ) -> None:
        # No `_created` series (the time a counter was made): Prometheus reads none of them.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # (untyped in 0.26)
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "orch_http_request_duration_seconds",
            "Time to answer a request, by route template, method and status; for an event "
            "stream, the time to its response's start.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.runs_started = Counter(
            "orch_runs_started",
            "Runs this API process started (POST /v1/runs, a route's or a thread's), by agent.",
            ["agent"],
            registry=self.registry,
        )
        self.registry.register(RunsCollector(session_factory))
        self.registry.register(StreamsCollector(hub))

    def render(self) -> bytes:
        """The Prometheus text format (version 0.0.4) of every figure."""
        return generate_latest(self.registry)


def route_of(scope: Scope) -> str:
    """The template of the route that took the request (`/v1/runs/{run_id}`), never its path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class HttpMetrics:
    """Times every HTTP request into `orch_http_request_duration_seconds`: up to the end of the
    response, or, for an event stream (`text/event-stream`), up to its start (a stream lasts
    as long as its run). Plain ASGI: nothing is buffered, streams pass as they are."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # the app raised before it answered: the server answers 500
        stream_started: float | None = None

        async def timed_send(message: Message) -> None:
            nonlocal status, stream_started
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type" and value.startswith(EVENT_STREAM):
                        stream_started = time.perf_counter()
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            ended = stream_started if stream_started is not None else time.perf_counter()
            method = scope.get("method", "")
            self.metrics.request_seconds.labels(
                route_of(scope), method if method in METHODS else "other", str(status)
            ).observe(ended - started)
