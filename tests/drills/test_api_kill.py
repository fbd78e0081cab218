"""Drill: `orch api` is killed (SIGKILL) while SSE clients follow runs, twice, and started again
on the same port. Each client reconnects with Last-Event-ID, as an EventSource does, and ends
with every event of its run exactly once, in order.

The API is a real `orch api` subprocess (stopped by its own pid); the worker runs in the test on
the session's dev server; the runs call a slow local `http` tool, so they outlast the kills.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.worker import build_worker
from tests.fakes.http_api_server import Canned, FakeHttpApiServer
from tests.support.auth import ADMIN_TOKEN, AUTH
from tests.support.cli import orch_env
from tests.support.runs import demo_spec, events_of, start_agent
from tests.support.temporal import free_port
from workflows.agent_run import AgentRun
from workflows.events import TERMINAL_EVENTS
from workflows.types import ScriptTurn, ToolCall, ToolSpec

pytestmark = pytest.mark.timeout(150)

RUNS = 3
CLIENTS_PER_RUN = 2
KILLS = 2
STEPS = 40  # a slow tool call a step: ~15 s a run here, longer than the kills take
TOOL_DELAY_S = 0.25


@pytest.fixture
def service() -> Iterator[FakeHttpApiServer]:
    server = FakeHttpApiServer()
    server.start()
    server.answer("/slow/x", Canned(echo=True, delay=TOOL_DELAY_S))
    yield server
    server.stop()


class ApiProcess:
    """`orch api` in a subprocess of its own session, on a fixed port."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.env = {
            **orch_env(settings),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "ORCH_ADMIN_TOKEN": ADMIN_TOKEN,
        }
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> float:
        """Start it; the seconds until it answered /healthz."""
        began = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orch.cli", "api"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        async with httpx.AsyncClient() as http:
            while True:
                assert self.proc.poll() is None, "orch api exited"
                try:
                    if (await http.get(f"{self.base}/healthz")).status_code == 200:
                        return time.monotonic() - began
                except httpx.TransportError:
                    pass
                assert time.monotonic() - began < 30, "orch api did not start"
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)  # this process, by its pid
            self.proc.wait()


@dataclass
class Follower:
    """An SSE client that reconnects with Last-Event-ID whenever the stream breaks off."""

    url: str
    events: list[tuple[int | None, str]] = field(default_factory=list)
    reconnects: int = 0
    broke_at: float | None = None
    resumed_after: list[float] = field(default_factory=list)  # seconds from break to next event

    @property
    def last_id(self) -> int | None:
        ids = [i for i, _ in self.events if i is not None]
        return ids[-1] if ids else None

    async def follow(self, http: httpx.AsyncClient) -> None:
        while True:
            headers = dict(AUTH)
            if self.last_id is not None:
                headers["Last-Event-ID"] = str(self.last_id)
            try:
                if await self._read(http, headers):
                    return
            except (httpx.TransportError, AssertionError):
                pass
            if self.broke_at is None:
                self.broke_at = time.monotonic()
            self.reconnects += 1
            await asyncio.sleep(0.1)

    async def _read(self, http: httpx.AsyncClient, headers: dict[str, str]) -> bool:
        """One connection; True once the terminal event came."""
        async with http.stream("GET", self.url, headers=headers) as response:
            assert response.status_code == 200
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line == "":
                    if "data" in fields:
                        if self.broke_at is not None:
                            self.resumed_after.append(time.monotonic() - self.broke_at)
                            self.broke_at = None
                        offset = int(fields["id"]) if "id" in fields else None
                        kind = json.loads(fields["data"])["type"]
                        self.events.append((offset, kind))
                        if kind in TERMINAL_EVENTS:
                            return True
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        return False


async def test_sse_clients_resume_across_api_kills_with_every_event_once(
    temporal_client: Client, orch_settings: Settings, seeded: Any, service: FakeHttpApiServer
) -> None:
    tool = ToolSpec(
        name="lookup",
        kind="http",
        parameters={"type": "object", "properties": {"item": {"type": "string"}}},
        config={"url": f"{service.base_url}/slow/{{item}}"},
    )
    call = ToolCall(id="", name="lookup", arguments={"item": "x"})
    script = (ScriptTurn(tool_calls=(call,)),) * (STEPS - 1) + (ScriptTurn(text="done"),)
    spec = demo_spec(seeded, tools=(tool,), script=script, max_steps=STEPS)
    allowing = orch_settings.model_copy(update={"outbound_allow_hosts": "127.0.0.1"})
    api = ApiProcess(orch_settings, free_port())
    restarts: list[float] = []
    try:
        await api.start()
        async with (
            build_worker(temporal_client, allowing, TranscriptStore(seeded)),
            httpx.AsyncClient(timeout=httpx.Timeout(10, read=30)) as http,
        ):
            run_ids = [
                await start_agent(temporal_client, orch_settings, spec, "go") for _ in range(RUNS)
            ]
            followers = [
                Follower(f"{api.base}/v1/runs/{run_id}/events")
                for run_id in run_ids
                for _ in range(CLIENTS_PER_RUN)
            ]
            following = [asyncio.create_task(f.follow(http)) for f in followers]
            for _ in range(KILLS):
                seen = [len(f.events) for f in followers]
                while not all(len(f.events) >= n + 5 for f, n in zip(followers, seen, strict=True)):
                    assert not any(t.done() for t in following), "a run ended before the kill"
                    await asyncio.sleep(0.05)
                api.kill()
                await asyncio.sleep(0.5)
                restarts.append(await api.start())
            await asyncio.wait_for(asyncio.gather(*following), 90)
            for run_id in run_ids:
                await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()
            streams = {run_id: await events_of(temporal_client, run_id) for run_id in run_ids}
    finally:
        api.kill()

    duplicates = 0
    for index, follower in enumerate(followers):
        run_id = run_ids[index // CLIENTS_PER_RUN]
        expected = [(offset, e["type"]) for offset, e in enumerate(streams[run_id])]
        ids = [i for i, _ in follower.events]
        duplicates += len(ids) - len(set(ids))
        assert follower.events == expected, (follower.reconnects, follower.events[-3:])
        assert follower.reconnects >= KILLS and len(follower.resumed_after) == KILLS
    resumed = [s for f in followers for s in f.resumed_after]
    print(
        f"\nAPI drill: {RUNS} runs, {len(followers)} SSE clients, {KILLS} SIGKILLs of orch api; "
        f"restart to /healthz {', '.join(f'{s:.1f} s' for s in restarts)}; every client "
        f"resumed, {sum(f.reconnects for f in followers)} reconnect attempts, first event "
        f"{min(resumed):.1f}-{max(resumed):.1f} s after its stream broke; "
        f"{sum(len(f.events) for f in followers)} events received, {duplicates} duplicates"
    )
    assert duplicates == 0
