"""`orch worker` stopped by SIGTERM while tool calls are in flight: it lets them finish (each HTTP
call reaches the service once) and then stops; a second signal stops it at once. `orch up` on
Ctrl-C does the same, before it stops its dev server.

The worker is a real `orch worker` process on the session's dev server; the tool is an `http` tool
against a local server that answers slowly and records every request it gets.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.worker import build_worker
from tests.fakes.http_api_server import Canned, FakeHttpApiServer
from tests.support.auth import ADMIN_TOKEN, AUTH
from tests.support.runs import demo_spec, start_agent
from tests.support.temporal import free_port
from tests.support.up import start_up, up_env
from tests.support.workers import WorkerProcess, wait_until
from workflows.agent_run import AgentRun
from workflows.types import AgentSpec, ScriptTurn, ToolCall, ToolSpec

pytestmark = pytest.mark.timeout(150)

RUNS = 4


@pytest.fixture
def workers(orch_settings: Settings) -> Iterator[Callable[[float], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(grace_s: float) -> WorkerProcess:
        started.append(WorkerProcess(orch_settings, grace_s))
        return started[-1]

    yield start
    for worker in started:
        worker.kill()


def slow_tool_spec(
    seeded: Any, http_api_server: FakeHttpApiServer, path: str, steps: int
) -> AgentSpec:
    """The demo agent with one `http` tool on the fake API, scripted to call it `steps` times (one
    call a step), then answer "done"."""
    tool = ToolSpec(
        name="lookup",
        kind="http",
        parameters={
            "type": "object",
            "properties": {"item": {"type": "string"}},
            "required": ["item"],
        },
        config={"url": f"{http_api_server.base_url}{path}/{{item}}"},
    )
    calls = [
        ToolCall(id=f"call-{i}", name="lookup", arguments={"item": f"{i}"}) for i in range(steps)
    ]
    turns = tuple(ScriptTurn(tool_calls=(call,)) for call in calls)
    return demo_spec(seeded, tools=(tool,), script=(*turns, ScriptTurn(text="done")))


def tool_results(seeded: Any, run_id: str) -> list[str]:
    return [b["text"] for _, b in TranscriptStore(seeded).read(run_id) if b["role"] == "tool"]


async def finish_runs(
    client: Client, settings: Settings, seeded: Any, run_ids: list[str]
) -> list[str]:
    """Run a fresh worker until every run has ended; their answers."""
    allowing = settings.model_copy(update={"outbound_allow_hosts": "127.0.0.1"})
    async with build_worker(client, allowing, TranscriptStore(seeded)):
        results = await asyncio.gather(
            *(client.get_workflow_handle_for(AgentRun.run, r).result() for r in run_ids)
        )
    return [result.answer for result in results]


async def test_sigterm_lets_the_calls_in_flight_finish_once_and_a_restart_completes_the_runs(
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    http_api_server: FakeHttpApiServer,
    workers: Callable[[float], WorkerProcess],
) -> None:
    http_api_server.reset()
    delay = 5.0  # long enough that all first calls are in flight together
    for step in range(2):
        http_api_server.answer(f"/drain/{step}", Canned(echo=True, delay=delay))
    spec = slow_tool_spec(seeded, http_api_server, "/drain", steps=2)
    worker = workers(20)
    run_ids = [await start_agent(temporal_client, orch_settings, spec, "go") for _ in range(RUNS)]
    # Every run is inside its first call: the service has the request and has not answered yet.
    await asyncio.to_thread(
        wait_until, lambda: len(http_api_server.requests) == RUNS, 60, "the calls"
    )
    signalled = time.monotonic()
    worker.signal(signal.SIGTERM)
    code = await asyncio.to_thread(worker.wait, 30)
    stopped_after = time.monotonic() - signalled

    assert code == 0, worker.output
    assert re.search(
        rf"draining the worker: {RUNS} activities in flight, waiting up to 20 s", worker.output
    ), worker.output
    assert "stopping at once" not in worker.output and "grace of" not in worker.output
    # It waited for the calls, and their results were stored before it stopped.
    assert stopped_after < 20
    for run_id in run_ids:
        assert len(tool_results(seeded, run_id)) == 1, worker.output
    assert len(http_api_server.requests) == RUNS  # none sent twice, none of the next step begun

    answers = await finish_runs(temporal_client, orch_settings, seeded, run_ids)
    assert answers == ["done"] * RUNS
    keys = Counter(request.headers["idempotency-key"] for request in http_api_server.requests)
    assert len(keys) == RUNS * 2 and set(keys.values()) == {1}, keys  # every call exactly once
    for run_id in run_ids:
        assert len(tool_results(seeded, run_id)) == 2


@pytest.mark.parametrize("cut_by", ["a second signal", "the grace running out", "SIGKILL"])
async def test_calls_cut_off_by_a_second_sigterm_the_grace_or_sigkill_run_again(
    cut_by: str,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    http_api_server: FakeHttpApiServer,
    workers: Callable[[float], WorkerProcess],
) -> None:
    http_api_server.reset()
    delay = 8.0
    http_api_server.answer("/cut/0", Canned(echo=True, delay=delay))
    spec = slow_tool_spec(seeded, http_api_server, "/cut", steps=1)
    worker = workers(1 if cut_by == "the grace running out" else 60)
    run_ids = [await start_agent(temporal_client, orch_settings, spec, "go") for _ in range(2)]
    await asyncio.to_thread(wait_until, lambda: len(http_api_server.requests) == 2, 60, "the calls")
    if cut_by == "SIGKILL":
        worker.kill()
        assert worker.proc.returncode == -signal.SIGKILL
    else:
        worker.signal(signal.SIGTERM)
        await asyncio.to_thread(wait_until, lambda: "draining the worker" in worker.output, 10, "")
        signalled = time.monotonic()
        if cut_by == "a second signal":
            worker.signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 30)
        assert time.monotonic() - signalled < 5, worker.output  # not the 60 s grace, nor the call
        assert code == 0, worker.output
        if cut_by == "a second signal":
            said = "stopping at once: cancelled 2 activities in flight (Temporal retries them)"
        else:
            said = "grace of 1 s over: cancelling 2 activities in flight"
        assert said in worker.output, worker.output
    for run_id in run_ids:
        assert tool_results(seeded, run_id) == []
    # What a cut-off call costs: Temporal runs it again, so the service sees it twice.
    answers = await finish_runs(temporal_client, orch_settings, seeded, run_ids)
    assert answers == ["done", "done"]
    keys = Counter(request.headers["idempotency-key"] for request in http_api_server.requests)
    assert sorted(keys.values()) == [2, 2], keys


def slow_agent_config(http_api_server: FakeHttpApiServer, path: str) -> str:
    """A seed file: an offline agent `slowpoke` that calls an `http` tool on the fake API once."""
    return f"""
providers:
  - name: offline
    kind: scripted
    default_model: scripted
tools:
  - name: lookup
    kind: http
    parameters:
      type: object
      properties: {{item: {{type: string}}}}
      required: [item]
    config:
      url: "{http_api_server.base_url}{path}/{{item}}"
agents:
  - name: slowpoke
    provider: offline
    tools: [lookup]
    script:
      - tool_calls: [{{name: lookup, arguments: {{item: "0"}}}}]
      - text: done
"""


def test_ctrl_c_of_orch_up_drains_the_calls_in_flight_before_the_dev_server_stops(
    tmp_path: Path, http_api_server: FakeHttpApiServer
) -> None:
    http_api_server.reset()
    http_api_server.answer("/up/0", Canned(echo=True, delay=4.0))
    seed = tmp_path / "slow.yaml"
    seed.write_text(slow_agent_config(http_api_server, "/up"))
    grpc, ui, api = free_port(), free_port(), free_port()
    env = {
        **up_env(tmp_path, grpc, ui, api),
        "OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
        "ORCH_ADMIN_TOKEN": ADMIN_TOKEN,
        "WORKER_SHUTDOWN_GRACE_S": "20",
    }
    base = f"http://127.0.0.1:{api}"
    procs: list[subprocess.Popen[str]] = []
    try:
        up, output = start_up(tmp_path, env, seed)
        procs.append(up)
        assert "Ready." in output, output
        run_ids = []
        for _ in range(3):
            started = httpx.post(
                f"{base}/v1/runs", json={"agent": "slowpoke", "input": "go"}, headers=AUTH
            )
            assert started.status_code == 202, started.text
            run_ids.append(started.json()["run_id"])
        wait_until(lambda: len(http_api_server.requests) == 3, 60, "the calls")

        os.killpg(up.pid, signal.SIGINT)  # Ctrl-C: to the group (the dev server has its own)
        rest, _ = up.communicate(timeout=60)
        assert up.returncode == 0, rest
        said = [line for line in rest.splitlines() if line.startswith(("stopping", "draining"))]
        assert said == [
            "stopping: the API takes no new requests",
            "draining the worker: 3 activities in flight, waiting up to 20 s "
            "(signal again to stop at once)",
            "stopping: the Temporal dev server",
        ], rest
        assert len(http_api_server.requests) == 3

        again, output = start_up(tmp_path, env, seed)  # the runs go on where they were
        procs.append(again)
        assert "Ready." in output, output
        done = lambda: [run_status(base, run_id) for run_id in run_ids] == ["completed"] * 3  # noqa: E731
        wait_until(done, 60, "the runs")
        keys = Counter(request.headers["idempotency-key"] for request in http_api_server.requests)
        assert len(keys) == 3 and set(keys.values()) == {1}, keys  # every call exactly once
        again.send_signal(signal.SIGINT)
        again.communicate(timeout=60)
        assert again.returncode == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)


def run_status(base: str, run_id: str) -> str:
    answer = httpx.get(f"{base}/v1/runs/{run_id}", headers=AUTH)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])
