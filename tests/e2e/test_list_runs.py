"""`GET /v1/runs` and `orch runs` list runs from Temporal visibility, over real HTTP.

The dev server is shared by the whole session, so each test runs its own agents (unique names)
and checks the runs it started. Visibility is eventually consistent: poll with a deadline.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from temporalio.client import Client

from core.settings import Settings
from temporal import visibility
from temporal.runs import start_run
from tests.support.auth import ADMIN_TOKEN, AUTH
from tests.support.cli import client_env, orch
from tests.support.runs import stuck_spec
from tests.support.sse import read_events
from tests.support.temporal import serving

pytestmark = pytest.mark.timeout(120)

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], ok: Callable[[T], bool], timeout: float = 20
) -> T:
    """Call `probe` until `ok` holds for its value; fail with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if ok(value):
            return value
        assert time.monotonic() < deadline, f"still not there after {timeout}s: {value!r}"
        await asyncio.sleep(0.2)


async def new_agent(http: httpx.AsyncClient, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    body = {"name": name, "provider": "offline", "tools": ["calculator"]}
    created = await http.post("/v1/agents", json=body)
    assert created.status_code == 201, created.text
    return name


async def run_to_end(http: httpx.AsyncClient, agent: str, text: str = "What is 6*7?") -> str:
    started = await http.post("/v1/runs", json={"agent": agent, "input": text})
    assert started.status_code == 202, started.text
    events = await read_events(http, started.json()["events_url"])
    assert events[-1].event == "run.completed"
    return str(started.json()["run_id"])


async def list_all(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every page of `GET /v1/runs` with these filters."""
    runs: list[dict[str, Any]] = []
    token = None
    while True:
        query = {**params, **({"page_token": token} if token else {})}
        response = await http.get("/v1/runs", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        runs += page["runs"]
        token = page["next_page_token"]
        if token is None:
            return runs


def statuses(runs: list[dict[str, Any]], ids: set[str]) -> dict[str, str]:
    return {r["run_id"]: r["status"] for r in runs if r["run_id"] in ids}


async def test_list_filter_by_agent_and_status(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any, monkeypatch: Any
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        agent = await new_agent(http, "lister")
        demo_runs = {await run_to_end(http, "demo"), await run_to_end(http, "demo")}
        done = {await run_to_end(http, agent), await run_to_end(http, agent)}

        # One more run of the agent that stays running: its model is unreachable, so the
        # LLM activity retries until the run is terminated.
        stuck = f"run-{uuid.uuid4().hex}"
        await start_run(
            temporal_client,
            task_queue=orch_settings.temporal_task_queue,
            run_id=stuck,
            agent=stuck_spec(seeded, monkeypatch, name=agent),
            input="hi",
        )
        expected = {run_id: "completed" for run_id in done} | {stuck: "running"}

        # By agent: exactly this agent's runs, with their Temporal status.
        mine = await eventually(
            lambda: list_all(http, agent=agent),
            lambda runs: statuses(runs, set(expected)) == expected,
        )
        assert {r["run_id"] for r in mine} == set(expected)
        for run in mine:
            assert run["agent"] == agent and run["started_at"] is not None
            assert (run["closed_at"] is None) == (run["run_id"] == stuck)
        # Running runs come first.
        assert mine[0]["run_id"] == stuck

        # Everything: the demo runs are there too, under their own agent.
        everything = await eventually(
            lambda: list_all(http, limit=200),
            lambda runs: (
                set(statuses(runs, demo_runs | set(expected))) == demo_runs | set(expected)
            ),
        )
        assert {r["agent"] for r in everything if r["run_id"] in demo_runs} == {"demo"}
        demo = await list_all(http, agent="demo", limit=200)
        assert demo_runs <= {r["run_id"] for r in demo} and not set(expected) & {
            r["run_id"] for r in demo
        }

        # By status.
        completed = await list_all(http, agent=agent, status="completed")
        assert {r["run_id"] for r in completed} == done
        running = await list_all(http, agent=agent, status="running")
        assert [r["run_id"] for r in running] == [stuck]
        all_completed = await list_all(http, status="completed", limit=200)
        assert demo_runs | done <= {r["run_id"] for r in all_completed}
        assert stuck not in {r["run_id"] for r in all_completed}

        await temporal_client.get_workflow_handle(stuck).terminate(reason="test over")
        terminated = await eventually(
            lambda: list_all(http, agent=agent, status="terminated"),
            lambda runs: [r["run_id"] for r in runs] == [stuck],
        )
        assert terminated[0]["closed_at"] is not None
        assert await list_all(http, agent=agent, status="running") == []


async def test_pages_walk_every_run_once(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        agent = await new_agent(http, "pager")
        started = set(await asyncio.gather(*(run_to_end(http, agent) for _ in range(5))))
        await eventually(
            lambda: list_all(http, agent=agent),
            lambda runs: statuses(runs, started) == dict.fromkeys(started, "completed"),
        )

        seen: list[str] = []
        pages = 0
        token = None
        while True:
            params = {"agent": agent, "limit": 2, **({"page_token": token} if token else {})}
            response = await http.get("/v1/runs", params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert set(page) == {"runs", "next_page_token"}
            assert len(page["runs"]) <= 2
            seen += [r["run_id"] for r in page["runs"]]
            pages += 1
            token = page["next_page_token"]
            if token is None:
                break
        assert len(seen) == len(set(seen)) == 5 and set(seen) == started
        assert pages >= 3
        # Closed runs come most recently closed first.
        runs = await list_all(http, agent=agent)
        closed = [r["closed_at"] for r in runs]
        assert closed == sorted(closed, reverse=True)


@pytest.mark.parametrize(
    ("params", "error", "field"),
    [
        # The schema says what `agent` and `status` may be, so FastAPI refuses the rest.
        ({"status": "stopped"}, "validation_error", "query.status"),
        ({"status": "Running"}, "validation_error", "query.status"),
        ({"agent": ""}, "validation_error", "query.agent"),
        ({"agent": "Not A Name"}, "validation_error", "query.agent"),
        ({"agent": "x' OR WorkflowType != 'AgentRun"}, "validation_error", "query.agent"),
        ({"page_token": ""}, "validation_error", "query.page_token"),
        ({"page_token": "nope"}, "invalid_config", "page_token"),
        # base64 of a JSON token we never issued
        ({"page_token": "eyJ4IjoxfQ"}, "invalid_config", "page_token"),
    ],
)
async def test_bad_filters_are_422_naming_the_field(
    api_url: str, params: dict[str, str], error: str, field: str
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        response = await http.get("/v1/runs", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == error
    assert [d["field"] for d in response.json()["detail"]] == [field]


async def test_limit_out_of_range_is_422(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        for limit in (0, 201):
            response = await http.get("/v1/runs", params={"limit": limit})
            assert response.status_code == 422
            assert response.json()["detail"][0]["field"] == "query.limit"


async def test_orch_runs_filters_and_pages(api_url: str) -> None:
    env = client_env(api_url)
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        agent = await new_agent(http, "cli")
        started = {await run_to_end(http, agent) for _ in range(3)}

    async def listed() -> str:
        done = await asyncio.to_thread(orch, env, "runs", "--agent", agent, "--status", "completed")
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = await eventually(listed, lambda text: all(run_id in text for run_id in started))
    lines = out.splitlines()
    assert len(lines) == 3
    assert all(f"  {agent}  completed" in line for line in lines)

    first = await asyncio.to_thread(orch, env, "runs", "--agent", agent, "--limit", "2")
    *rows, more = first.stdout.splitlines()
    assert len(rows) == 2 and more.startswith("next page: --page-token=")
    rest = await asyncio.to_thread(
        orch, env, "runs", "--agent", agent, "--limit", "2", more.split()[-1]
    )
    assert rest.returncode == 0, rest.stderr
    ids = [line.split()[2] for line in rows + rest.stdout.splitlines() if "next page" not in line]
    assert sorted(ids) == sorted(started)

    bad = await asyncio.to_thread(orch, env, "runs", "--status", "stopped")
    assert bad.returncode == 2 and "status" in bad.stderr and "Traceback" not in bad.stderr


async def test_a_temporal_that_never_answers_gets_a_503_in_bounded_time(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Temporal address that accepts connections and never answers (a hung frontend, a
    black-holed network): the list answers 503 temporal_unavailable at its time bound instead
    of hanging."""
    monkeypatch.setattr(visibility, "LIST_TIMEOUT", visibility.LIST_TIMEOUT / 5)
    held: list[asyncio.StreamWriter] = []

    async def accept_and_wait(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    silent = await asyncio.start_server(accept_and_wait, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    settings = Settings(
        database_url=sqlite_url,
        temporal_address=f"127.0.0.1:{port}",
        orch_admin_token=ADMIN_TOKEN,
    )
    try:
        async with (
            serving(settings) as url,
            httpx.AsyncClient(base_url=url, headers=AUTH, timeout=30) as http,
        ):
            started = time.monotonic()
            listed = await http.get("/v1/runs")
            took = time.monotonic() - started
    finally:
        for writer in held:
            writer.close()
        silent.close()
    assert listed.status_code == 503, listed.text
    assert listed.json() == {
        "error": "temporal_unavailable",
        "detail": "Temporal did not answer the run list within 1 s",
    }
    assert held, "the API never reached the address"
    assert 0.9 < took < 3
