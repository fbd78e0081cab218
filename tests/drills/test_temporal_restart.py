"""Drill: the Temporal dev server goes away mid-run, twice (a clean stop, then SIGKILL), and comes
back on the same port and the same database file. The worker rides it out; every run completes
with each step once and each event once.

The dev server is the test's own (a `DevServer`, as `orch up` runs it, on a db file under
tmp_path); only it is stopped, by its own pid.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.devserver import DevServer
from temporal.worker import build_worker
from tests.support.runs import demo_spec, events_of, start_agent
from tests.support.temporal import free_port
from workflows.agent_run import AgentRun
from workflows.types import ScriptTurn, ToolCall

pytestmark = pytest.mark.timeout(150)

RUNS = 4
STEPS = 100  # long enough to be cut twice, a few steps in each time
DOWN_S = 3.0  # how long the server stays down each time


@pytest_asyncio.fixture
async def dev_server(tmp_path: Path) -> AsyncIterator[DevServer]:
    server = DevServer(port=free_port(), ui_port=free_port(), db_file=tmp_path / "temporal.db")
    await server.start()
    yield server
    server.stop()


def progress(store: TranscriptStore, run_ids: list[str]) -> list[int]:
    return [len(store.read(run_id)) for run_id in run_ids]


async def wait_for_progress(
    store: TranscriptStore, run_ids: list[str], since: list[int], timeout_s: float
) -> float:
    """Seconds until every run has reached `since` (transcript entries), or ended."""
    began = time.monotonic()
    full = 1 + 2 * (STEPS - 1) + 1
    while True:
        now = progress(store, run_ids)
        if all(n >= min(s, full) for n, s in zip(now, since, strict=True)):
            return time.monotonic() - began
        assert time.monotonic() - began < timeout_s, (since, now)
        await asyncio.sleep(0.1)


async def test_runs_complete_across_a_dev_server_stop_and_a_kill(
    dev_server: DevServer, orch_settings: Settings, seeded: Any
) -> None:
    settings = orch_settings.model_copy(update={"temporal_address": dev_server.address})
    client = await Client.connect(dev_server.address)
    store = TranscriptStore(seeded)
    calc = ToolCall(id="", name="calculator", arguments={"expression": "6*7"})
    script = (ScriptTurn(tool_calls=(calc,)),) * (STEPS - 1) + (ScriptTurn(text="done"),)
    spec = demo_spec(seeded, script=script, max_steps=STEPS)
    full = 1 + 2 * (STEPS - 1) + 1  # transcript entries of a finished run
    recoveries: list[float] = []
    began = time.monotonic()
    async with build_worker(client, settings, store):
        run_ids = [await start_agent(client, settings, spec, "go") for _ in range(RUNS)]
        for how in ("stop", "kill"):
            # Cut them a few steps in (again a few steps after they were back).
            await wait_for_progress(store, run_ids, [n + 20 for n in progress(store, run_ids)], 60)
            before = progress(store, run_ids)
            assert all(0 < n < full for n in before), before  # every run is in flight
            if how == "stop":
                dev_server.stop()
            else:
                pid = dev_server.pid
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                dev_server.stop()  # reaps it
            await asyncio.sleep(DOWN_S)
            await dev_server.start()
            back = [n + 1 for n in progress(store, run_ids)]
            recoveries.append(await wait_for_progress(store, run_ids, back, 60))
        results = await asyncio.gather(
            *(client.get_workflow_handle_for(AgentRun.run, r).result() for r in run_ids)
        )
        streams = [await events_of(client, run_id) for run_id in run_ids]
    took = time.monotonic() - began

    assert [r.answer for r in results] == ["done"] * RUNS
    assert {r.steps for r in results} == {STEPS}
    duplicates = 0
    for run_id, events in zip(run_ids, streams, strict=True):
        entries = store.read(run_id)
        assert [seq for seq, _ in entries] == list(range(full))
        types = [e["type"] for e in events]
        assert types.count("llm.completed") == STEPS and types[-1] == "run.completed"
        steps = [e["data"]["seq"] for e in events if e["type"] == "step.started"]
        duplicates += len(steps) - len(set(steps))
        calls = [e["data"]["call_id"] for e in events if e["type"] == "tool.completed"]
        duplicates += len(calls) - len(set(calls))
    print(
        f"\ndev server drill: {RUNS} runs of {STEPS} steps, 2 outages of {DOWN_S:.0f} s "
        f"(SIGTERM, SIGKILL), all completed in {took:.1f} s; every run stepping again "
        f"{', '.join(f'{s:.1f} s' for s in recoveries)} after the server was back; "
        f"{duplicates} duplicate steps or events"
    )
    assert duplicates == 0
