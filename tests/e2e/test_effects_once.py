"""The drill "promises kept under crashes", as a test: runs whose every step appends to a file
(write_file), sends a non-idempotent POST and an idempotent GET, and calculates (a local activity:
workflows/tool_steps.py), while the worker (a real `orch worker` process) is SIGKILLed mid-call and
restarted, a few times.

What must hold: no run is lost; no file effect is doubled (the workspace's effect ledger); the
POST is never sent twice for one call (the call ledger): a call cut off by a kill is reported to
the model as `outcome_unknown` (in the transcript, the `tool.completed` event and the run's
`tool_errors`), not repeated. The GET may be sent again after a kill: counted and printed, with
the other figures. Loopback only; only the worker processes this test started are signalled.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from activities.tools.net import idempotency_key
from config_store.transcript import TranscriptStore
from core.settings import Settings
from tests.fakes.http_api_server import Canned, FakeHttpApiServer
from tests.support.auth import AUTH
from tests.support.runs import demo_spec, events_of, start_agent
from tests.support.temporal import serving
from tests.support.workers import WorkerProcess, wait_until
from workflows.agent_run import AgentRun
from workflows.types import AgentSpec, ScriptTurn, ToolCall, ToolSpec

pytestmark = pytest.mark.timeout(300)

RUNS = 5
STEPS = 4
KILLS = 3
DELAY_S = 2.0  # how long the service takes to answer: calls are in flight when a kill comes
ITEM = {"type": "object", "properties": {"item": {"type": "string"}}, "required": ["item"]}


@pytest.fixture
def workers(orch_settings: Settings) -> Iterator[Callable[[], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        started.append(WorkerProcess(orch_settings, grace_s=30))
        return started[-1]

    yield start
    for worker in started:
        worker.kill()


def drill_spec(
    seeded: sessionmaker[Session], http_api_server: FakeHttpApiServer, run: int
) -> AgentSpec:
    """Each step: append a line to this run's file, POST a notice, GET a record, calculate, at
    once (the calculator a local activity: its marker in the history the next worker replays). More
    attempts than kills, so that no call runs out of attempts (every kill costs the calls in
    flight one attempt, which then ends by its heartbeat timeout)."""
    attempts = KILLS + 2
    tools = (
        ToolSpec(name="save", kind="write_file", idempotent=True, retry_attempts=attempts),
        ToolSpec(
            name="notify",
            kind="http",
            parameters=ITEM,
            config={
                "method": "POST",
                "url": f"{http_api_server.base_url}/notify/{{item}}",
                "body": {"item": "{item}"},
            },
            idempotent=False,
            retry_attempts=attempts,
        ),
        ToolSpec(
            name="lookup",
            kind="http",
            parameters=ITEM,
            config={"url": f"{http_api_server.base_url}/lookup/{{item}}"},
            idempotent=True,
            retry_attempts=attempts,
        ),
        ToolSpec(name="calc", kind="calculator", retry_attempts=attempts),
    )
    turns = []
    for step in range(STEPS):
        item = {"item": f"r{run}s{step}"}
        line = {"path": f"drill/run{run}.txt", "content": f"step {step}\n", "mode": "append"}
        turns.append(
            ScriptTurn(
                tool_calls=(
                    ToolCall(id=f"save-{step}", name="save", arguments=line),
                    ToolCall(id=f"notify-{step}", name="notify", arguments=item),
                    ToolCall(id=f"lookup-{step}", name="lookup", arguments=item),
                    ToolCall(
                        id=f"calc-{step}", name="calc", arguments={"expression": f"{run}*10+{step}"}
                    ),
                )
            )
        )
    script = (*turns, ScriptTurn(text="done"))
    return demo_spec(seeded, tools=tools, script=script, max_steps=STEPS + 2)


def calls_sent(http_api_server: FakeHttpApiServer) -> set[str]:
    return {request.headers["idempotency-key"] for request in http_api_server.requests}


def tool_bodies(seeded: sessionmaker[Session], run_id: str) -> list[dict[str, Any]]:
    return [b for _, b in TranscriptStore(seeded).read(run_id) if b["role"] == "tool"]


async def test_sigkilled_workers_lose_no_run_double_no_file_and_repeat_no_post(
    temporal_client: Client,
    orch_settings: Settings,
    seeded: sessionmaker[Session],
    http_api_server: FakeHttpApiServer,
    workers: Callable[[], WorkerProcess],
) -> None:
    http_api_server.reset()
    for run in range(RUNS):
        for step in range(STEPS):
            for kind in ("notify", "lookup"):
                http_api_server.answer(f"/{kind}/r{run}s{step}", Canned(echo=True, delay=DELAY_S))
    began = time.monotonic()
    worker = workers()
    specs = [drill_spec(seeded, http_api_server, run) for run in range(RUNS)]
    run_ids = [await start_agent(temporal_client, orch_settings, s, "go") for s in specs]

    for _ in range(KILLS):
        seen = len(calls_sent(http_api_server))
        # Calls not seen before (not retries: the runs moved on) have reached the service and
        # wait for its answer: kill now.
        await asyncio.to_thread(
            wait_until, lambda s=seen: len(calls_sent(http_api_server)) >= s + 3, 120, "new calls"
        )
        worker.kill()
        worker = workers()

    handles = [temporal_client.get_workflow_handle_for(AgentRun.run, r) for r in run_ids]
    results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 200)
    elapsed = time.monotonic() - began

    # 0 runs lost.
    assert [result.answer for result in results] == ["done"] * RUNS

    # 0 duplicated file effects: every line once, in order.
    workspace = orch_settings.workspace_dir
    for run in range(RUNS):
        lines = (workspace / "drill" / f"run{run}.txt").read_text().splitlines()
        saves = [b for b in tool_bodies(seeded, run_ids[run]) if b["tool_name"] == "save"]
        assert lines == [f"step {s}" for s in range(STEPS)], (run, lines, saves)

    # The POST: at most one request per call; a call cut off is reported, never repeated.
    requests = http_api_server.requests
    posts = Counter(r.headers["idempotency-key"] for r in requests if r.path.startswith("/notify"))
    gets = Counter(r.headers["idempotency-key"] for r in requests if r.path.startswith("/lookup"))
    assert max(posts.values()) == 1, posts
    unknown: dict[str, list[str]] = {}
    for run_id in run_ids:
        bodies = tool_bodies(seeded, run_id)
        assert len(bodies) == 4 * STEPS
        run = run_ids.index(run_id)
        calcs = [b["text"] for b in bodies if b["tool_name"] == "calc"]
        assert calcs == [str(run * 10 + step) for step in range(STEPS)], bodies
        for body in bodies:
            if not body.get("is_error"):
                if body["tool_name"] == "notify":  # answered: its one request
                    assert posts[idempotency_key(run_id, body["tool_call_id"])] == 1
                continue
            # The only error a kill may leave: a non-idempotent call reported, not repeated.
            assert body["tool_name"] == "notify", body
            assert body["error_type"] == "outcome_unknown", body
            unknown.setdefault(run_id, []).append(body["tool_call_id"])
    reported = sum(len(calls) for calls in unknown.values())
    assert reported >= 1  # at least one kill cut off a POST in flight
    # Of the calls reported, those whose request reached the service before the kill.
    reached = sum(posts[idempotency_key(r, c)] for r, calls in unknown.items() for c in calls)

    # The run's tool_errors (GET /v1/runs/{id}) and its events show each one.
    async with serving(orch_settings) as url, httpx.AsyncClient(base_url=url) as api:
        for run_id in run_ids:
            read = await api.get(f"/v1/runs/{run_id}", headers=AUTH)
            assert read.status_code == 200, read.text
            assert read.json()["tool_errors"] == len(unknown.get(run_id, [])), read.json()
    cut_run, cut_calls = next(iter(unknown.items()))
    completed = [
        e["data"]
        for e in await events_of(temporal_client, cut_run)
        if e["type"] == "tool.completed"
    ]
    flagged = [e["call_id"] for e in completed if e["error_type"] == "outcome_unknown"]
    assert flagged == cut_calls, completed

    repeated_gets = sum(count - 1 for count in gets.values())
    print(
        f"\ndrill: {RUNS} runs x {STEPS} steps x 4 calls, {KILLS} SIGKILLs, {elapsed:.0f} s: "
        f"runs lost 0 of {RUNS}; file lines {RUNS * STEPS} written, 0 doubled; "
        f"POST requests {sum(posts.values())} for {RUNS * STEPS} calls, most per call "
        f"{max(posts.values())}, outcome_unknown reported {reported} (of which {reached} had "
        f"reached the http_api_server), repeated 0; "
        f"GET requests {sum(gets.values())} for {len(gets)} calls ({repeated_gets} repeats)"
    )
