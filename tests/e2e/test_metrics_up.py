"""`orch up` with WORKER_METRICS_PORT: after a run, the API's /metrics and the worker's
endpoint both have its counters."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.support.metrics import Sample, samples, total
from tests.support.temporal import free_port
from tests.support.up import port_open, start_up, up_env

pytestmark = pytest.mark.timeout(120)


def scrape_until(
    url: str, headers: dict[str, str], ready: str, **labels: str
) -> dict[str, list[Sample]]:
    """Scrape `url` until the sample `ready` with `labels` is above 0 (at most 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        response = httpx.get(url, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        scraped = samples(response.text)
        if total(scraped, ready, **labels) > 0:
            return scraped
        assert time.monotonic() < deadline, f"{url} never showed {ready}: {response.text}"
        time.sleep(0.2)


def test_orch_up_serves_the_api_and_worker_metrics(tmp_path: Path) -> None:
    grpc, ui, api, metrics = free_port(), free_port(), free_port(), free_port()
    env = {**up_env(tmp_path, grpc, ui, api), "WORKER_METRICS_PORT": str(metrics)}
    proc, output = start_up(tmp_path, env)
    try:
        assert "Ready." in output, output
        token = (tmp_path / ".orch" / "admin-token").read_text().strip()
        auth = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{api}"
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
        demo = {"agent": "demo", "input": "What is 12*7?"}
        started = httpx.post(f"{base}/v1/runs", json=demo, headers=auth, timeout=30)
        assert started.status_code == 202, started.text
        events_url = f"{base}/v1/runs/{started.json()['run_id']}/events"
        with httpx.stream("GET", events_url, timeout=30, headers=auth) as events:
            assert "event: run.completed" in "".join(events.iter_text())

        # The API's figures from the runs table (kept 5 s at most) and its own counters.
        served = scrape_until(
            f"{base}/metrics", auth, "orch_runs_finished_total", agent="demo", status="completed"
        )
        assert total(served, "orch_runs_started_total", agent="demo") == 1
        assert total(served, "orch_run_tokens_total", agent="demo") > 0
        # The worker's: the SDK's and ours, no token needed on its loopback port.
        worker = scrape_until(
            f"http://127.0.0.1:{metrics}/metrics", {}, "orch_llm_tokens_total", agent="demo"
        )
        assert total(worker, "orch_tool_calls_total", tool="calculator") == 1
        assert total(worker, "temporal_workflow_completed_total") >= 1
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code == 0
    assert not port_open(metrics), "the worker's metrics port is still open after Ctrl-C"
