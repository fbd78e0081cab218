"""The worker's Prometheus endpoint (WORKER_METRICS_PORT): the SDK's metrics and ours after
real runs, and every metric the Grafana dashboard reads exposed by the worker or the API."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.orm import Session, sessionmaker

from config_store.transcript import TranscriptStore
from core.errors import OrchError
from core.settings import Settings
from temporal.client import connect
from temporal.telemetry import worker_runtime
from temporal.worker import build_worker
from tests.support.auth import AUTH
from tests.support.metrics import Sample, dashboard, dashboard_metric_names, samples, total
from tests.support.runs import demo_spec, guarded, start_recorded_agent
from tests.support.sse import events_of, read_events
from tests.support.temporal import free_port, serving
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.timeout(120)


@pytest_asyncio.fixture
async def metrics_settings(
    orch_settings: Settings, seeded: sessionmaker[Session]
) -> AsyncIterator[Settings]:
    """A worker whose client serves its metrics on a free loopback port, and the API."""
    settings = orch_settings.model_copy(update={"worker_metrics_port": free_port()})
    client = await connect(settings, runtime=worker_runtime(settings))
    async with build_worker(client, settings, TranscriptStore(seeded)):
        yield settings


async def scrape(url: str, headers: dict[str, str] | None = None) -> dict[str, list[Sample]]:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url, headers=headers or {})
    assert response.status_code == 200, response.text
    return samples(response.text)


async def scrape_until(
    url: str,
    ready: Any,
    what: str,
    headers: dict[str, str] | None = None,
    *,
    retry_refused: bool = False,
) -> dict[str, list[Sample]]:
    """Scrape `url` until `ready(scraped)` (at most 30 s); `retry_refused`: while nothing
    listens there yet, try again."""
    deadline = time.monotonic() + 30
    scraped: dict[str, list[Sample]] = {}
    while True:
        try:
            scraped = await scrape(url, headers)
        except httpx.ConnectError:
            if not retry_refused:
                raise
        else:
            if ready(scraped):
                return scraped
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} never showed {what}: {sorted(scraped)}")
        await asyncio.sleep(0.2)


async def run_through_api(http: httpx.AsyncClient, text: str) -> list[str]:
    started = await http.post("/v1/runs", json={"agent": "demo", "input": text})
    assert started.status_code == 202, started.text
    events = await read_events(http, f"/v1/runs/{started.json()['run_id']}/events")
    return [str(e.event) for e in events]


async def test_the_worker_endpoint_has_the_sdk_metrics_and_ours_after_runs(
    metrics_settings: Settings,
    seeded: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("api.metrics.RUNS_CACHE_S", 0.1)
    settings = metrics_settings
    worker_url = f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"
    async with (
        serving(settings) as api_url,
        httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http,
    ):
        assert (await run_through_api(http, "12*7?"))[-1] == "run.completed"
        assert (await run_through_api(http, "1/0?"))[-1] == "run.completed"  # the tool failed

        # A run whose calculator call waits for an approval, approved over HTTP.
        client = await connect(settings)
        spec = guarded(demo_spec(seeded))
        run_id = await start_recorded_agent(client, settings, seeded, spec, "2+3?")
        async with http.stream("GET", f"/v1/runs/{run_id}/events") as response:
            async for event in events_of(response):
                if event.event == "approval.requested":
                    call_id = event.data["data"]["call_id"]
                    approved = await http.post(
                        f"/v1/runs/{run_id}/approvals/{call_id}", json={"decision": "approve"}
                    )
                    assert approved.status_code == 200, approved.text
                if event.event == "run.completed":
                    break
            else:
                raise AssertionError("the approved run did not complete")
        # And one cancelled while it waits for its approval.
        run_id = await start_recorded_agent(client, settings, seeded, spec, "4+5?")
        async with http.stream("GET", f"/v1/runs/{run_id}/events") as response:
            async for event in events_of(response):
                if event.event == "approval.requested":
                    cancelled = await http.post(f"/v1/runs/{run_id}/cancel")
                    assert cancelled.status_code == 202, cancelled.text
                if event.event == "run.cancelled":
                    break
            else:
                raise AssertionError("the run was not cancelled")

        worker = await scrape_until(
            worker_url,
            lambda s: total(s, "orch_worker_runs_finished_total", agent="demo") == 4,
            "four finished runs",
        )
        # The SDK's own metrics, on the same endpoint (counters end in _total, seconds).
        for name in (
            "temporal_workflow_completed_total",
            "temporal_workflow_task_execution_latency_bucket",
            "temporal_activity_execution_latency_bucket",
            "temporal_activity_schedule_to_start_latency_bucket",
            "temporal_request_total",
        ):
            assert name in worker, f"{name} missing: {sorted(worker)}"
        mine = {"agent": "demo", "provider": "offline"}
        assert total(worker, "orch_llm_tokens_total", **mine, direction="input") > 0
        assert total(worker, "orch_llm_tokens_total", **mine, direction="output") > 0
        # Two model calls for each finished run, one for the cancelled one.
        assert total(worker, "orch_llm_cost_usd_count", **mine) == 7
        assert total(worker, "orch_tool_calls_total", tool="calculator") == 3
        assert total(worker, "orch_tool_errors_total", tool="calculator") == 1
        assert total(worker, "orch_tool_errors_total", error_type="tool_error") == 1
        completed = {"agent": "demo", "status": "completed"}
        assert total(worker, "orch_worker_runs_finished_total", **completed) == 3
        cancelled_run = {"agent": "demo", "status": "cancelled"}
        assert total(worker, "orch_worker_runs_finished_total", **cancelled_run) == 1
        assert total(worker, "orch_approvals_requested_total", agent="demo") == 2
        resolved = {"agent": "demo", "decision": "approved", "cause": "requires_approval"}
        assert total(worker, "orch_approvals_resolved_total", **resolved) == 1
        withdrawn = {"agent": "demo", "decision": "cancelled", "cause": "requires_approval"}
        assert total(worker, "orch_approvals_resolved_total", **withdrawn) == 1

        # Every metric the dashboard draws is one of the two endpoints' after these runs.
        api = await scrape_until(
            f"{api_url}/metrics",
            lambda s: total(s, "orch_runs_finished_total", agent="demo") == 4,
            "four finished runs",
            AUTH,
        )
    missing = dashboard_metric_names(dashboard()) - set(worker) - set(api)
    assert not missing, f"the dashboard reads metrics nobody exposes: {sorted(missing)}"


def test_a_taken_metrics_port_is_a_clear_error(orch_settings: Settings) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        settings = orch_settings.model_copy(update={"worker_metrics_port": port})
        with pytest.raises(
            OrchError, match=f"cannot serve the worker's metrics on 127.0.0.1:{port}"
        ):
            worker_runtime(settings)


def test_no_port_no_runtime_of_its_own(orch_settings: Settings) -> None:
    assert orch_settings.worker_metrics_port is None
    assert worker_runtime(orch_settings) is None


async def test_orch_worker_serves_its_metrics_on_worker_metrics_port(
    orch_settings: Settings, seeded: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("WORKER_METRICS_PORT", str(port))
    worker = WorkerProcess(orch_settings, grace_s=1)
    try:
        polling = {"task_queue": orch_settings.temporal_task_queue}
        scraped = await scrape_until(
            f"http://127.0.0.1:{port}/metrics",
            lambda s: total(s, "temporal_num_pollers", **polling) > 0,
            "the worker's pollers",
            retry_refused=True,
        )
        assert total(scraped, "temporal_worker_start_total", **polling) == 1
        worker.signal(signal.SIGTERM)
        assert worker.wait(timeout_s=30) == 0, worker.output
        assert f"worker metrics on http://127.0.0.1:{port}/metrics" in worker.output
    finally:
        worker.kill()
