"""The README's tour, over real HTTP: start the demo run, follow its events, read its result."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from temporalio.client import Client

from api.app import create_app
from core.settings import Settings
from temporal.devserver import temporal_binary
from temporal.runs import start_run
from tests.support.auth import AUTH
from tests.support.runs import stuck_spec
from tests.support.sse import read_events

pytestmark = pytest.mark.timeout(120)


async def start_demo(http: httpx.AsyncClient, text: str = "What is 12*7?") -> dict:
    response = await http.post("/v1/runs", json={"agent": "demo", "input": text})
    assert response.status_code == 202, response.text
    return response.json()


async def test_demo_run_over_http(api_url: str, temporal_client: Client) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        started = await start_demo(http)
        run_id = started["run_id"]
        assert started["events_url"] == f"{api_url}/v1/runs/{run_id}/events"
        assert started["temporal_ui_url"].endswith(f"/namespaces/default/workflows/{run_id}")
        assert started["agent"] == "demo" and started["agent_version"] == 1

        events = await read_events(http, started["events_url"])
        types = [e.event for e in events]
        assert types[0] == "run.started" and types[-1] == "run.completed"
        assert types.count("llm.completed") == 2 and types.count("tool.completed") == 1
        ids = [int(e.id) for e in events if e.id is not None]
        assert ids == sorted(ids) and len(ids) == len(events)
        tool = next(e.data for e in events if e.event == "tool.completed")
        assert (
            tool["data"]["arguments"] == {"expression": "12*7"} and tool["data"]["result"] == "84"
        )
        assert "84" in events[-1].data["data"]["answer"]

        run = (await http.get(f"/v1/runs/{run_id}")).json()
        assert run["status"] == "completed" and run["stop_reason"] == "answer"
        assert run["agent"] == "demo" and run["agent_version"] == 1
        assert run["steps"] == 2 and "84" in run["answer"]
        assert run["temporal_ui_url"] == started["temporal_ui_url"]
        assert run["usage"]["total_tokens"] > 0
        assert isinstance(run["usage"]["total_tokens"], int)  # tokens are counts, not floats

        # After the run: the stream replays everything, then closes.
        again = await read_events(http, started["events_url"])
        assert [e.data for e in again] == [e.data for e in events]
        # Resuming after an event id misses nothing and repeats nothing.
        cut = events[3].id
        assert cut is not None
        rest = await read_events(http, started["events_url"], headers={"Last-Event-ID": cut})
        assert [e.data for e in rest] == [e.data for e in events[4:]]

    # The Web UI's list can filter by agent (visibility is eventually consistent).
    for _ in range(50):
        found = [w.id async for w in temporal_client.list_workflows("AgentName = 'demo'")]
        if run_id in found:
            break
        await asyncio.sleep(0.2)
    assert run_id in found


async def test_two_watchers_see_the_same_live_stream(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        started = await start_demo(http)
        first, second = await asyncio.gather(
            read_events(http, started["events_url"]), read_events(http, started["events_url"])
        )
        assert [e.data for e in first] == [e.data for e in second]
        assert first[-1].event == "run.completed"


async def test_route_starts_its_agent(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        response = await http.post("/v1/routes/demo/runs", json={"input": "What is 2+2?"})
        assert response.status_code == 202, response.text
        events = await read_events(http, response.json()["events_url"])
        assert "4" in events[-1].data["data"]["answer"]


async def test_health_and_openapi(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        assert (await http.get("/docs")).status_code == 200
        paths = (await http.get("/openapi.json")).json()["paths"]
        assert {"/v1/runs", "/v1/runs/{run_id}", "/v1/runs/{run_id}/events"} <= set(paths)


async def test_bad_requests_get_clear_json_errors(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        unknown = await http.post("/v1/runs", json={"agent": "nobody", "input": "hi"})
        assert unknown.status_code == 404
        assert unknown.json()["error"] == "not_found" and "nobody" in str(unknown.json()["detail"])

        missing = await http.post("/v1/runs", json={"agent": "demo"})
        assert missing.status_code == 422
        fields = [d["field"] for d in missing.json()["detail"]]
        assert "body.input" in fields

        not_json = await http.post(
            "/v1/runs", content=b"{nope", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 422 and not_json.json()["error"] == "validation_error"

        no_run = await http.get("/v1/runs/run-does-not-exist")
        assert no_run.status_code == 404 and no_run.json()["error"] == "not_found"
        no_events = await http.get("/v1/runs/run-does-not-exist/events")
        assert no_events.status_code == 404

        no_route = await http.post("/v1/routes/nowhere/runs", json={"input": "hi"})
        assert no_route.status_code == 404


def orch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orch.cli", *args], capture_output=True, text=True, timeout=60
    )


async def test_exported_history_replays_and_a_changed_one_is_refused(
    api_url: str, temporal_address: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        started = await start_demo(http)
        await read_events(http, started["events_url"])
    history = tmp_path / "h.json"
    shown = subprocess.run(
        [
            str(temporal_binary()),
            "workflow",
            "show",
            "--workflow-id",
            started["run_id"],
            "--output",
            "json",
            "--address",
            temporal_address,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    history.write_text(shown.stdout)

    ok = orch("replay", str(history))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "replay ok" in ok.stdout

    # A history whose first model hop was a different activity no longer matches the code (the
    # model call: the demo's calculator call is a local activity, no activity task).
    data = json.loads(history.read_text())
    for event in data["events"]:
        attrs = event.get("activityTaskScheduledEventAttributes")
        if attrs and attrs["activityType"]["name"] == "llm_step":
            attrs["activityType"]["name"] = "send_email"
            break
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data))
    bad = orch("replay", str(tampered))
    assert bad.returncode != 0
    assert "send_email" in bad.stdout or "llm_step" in bad.stdout, bad.stdout


async def test_a_run_ended_from_outside_still_ends_its_stream_with_a_terminal_event(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any, monkeypatch: Any
) -> None:
    spec = stuck_spec(seeded, monkeypatch)
    run_id = "run-terminated-" + uuid.uuid4().hex
    await start_run(
        temporal_client,
        task_queue=orch_settings.temporal_task_queue,
        run_id=run_id,
        agent=spec,
        input="hi",
    )
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        reader = asyncio.create_task(read_events(http, f"/v1/runs/{run_id}/events"))
        await asyncio.sleep(1.0)  # the model is unreachable: the run is retrying
        await temporal_client.get_workflow_handle(run_id).terminate(reason="operator")
        events = await asyncio.wait_for(reader, timeout=30)
        assert events[0].event == "run.started"
        assert events[-1].event == "run.failed" and events[-1].id is None
        assert events[-1].data["data"]["error_type"] == "terminated"
        run = (await http.get(f"/v1/runs/{run_id}")).json()
        assert run["status"] == "terminated"
        # A client resuming after the last stream event still learns how the run ended.
        resumed = await read_events(
            http, f"/v1/runs/{run_id}/events", headers={"Last-Event-ID": str(events[-2].id)}
        )
        assert [e.event for e in resumed] == ["run.failed"]


def test_temporal_down_is_a_503_not_a_crash(seeded: Any, orch_settings: Settings) -> None:
    settings = orch_settings.model_copy(
        update={"temporal_address": "127.0.0.1:9", "allowed_hosts": "testserver"}
    )
    with TestClient(create_app(settings), headers=AUTH) as http:
        response = http.post("/v1/runs", json={"agent": "demo", "input": "hi"})
        assert response.status_code == 503
        assert response.json()["error"] == "temporal_unavailable"
        # Configuration stays available while Temporal is away.
        assert http.get("/v1/agents").status_code == 200


def test_replay_of_something_that_is_not_a_history_says_so(tmp_path: Path) -> None:
    missing = orch("replay", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read history" in missing.stderr
    (tmp_path / "x.json").write_text('{"hello": 1}')
    wrong = orch("replay", str(tmp_path / "x.json"))
    assert wrong.returncode == 2 and "not an exported history" in wrong.stderr
    assert "Traceback" not in missing.stderr + wrong.stderr


async def test_a_templated_prompt_reaches_the_model_rendered(
    api_url: str, fake_provider: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ORCH_TEST_TEMPLATE_KEY", "k")
    fake_provider.queue_text('{"greeting": "hello Ann"}')
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        created = await http.post(
            "/v1/providers",
            json={
                "name": "fake",
                "kind": "openai_compatible",
                "base_url": fake_provider.openai_base_url,
                "api_key_env": "ORCH_TEST_TEMPLATE_KEY",
                "prices": [{"model": "m*", "input_usd_per_mtok": 1, "output_usd_per_mtok": 2}],
            },
        )
        assert created.status_code == 201, created.text
        agent = {
            "name": "greeter",
            "provider": "fake",
            "model": "m1",
            "system_prompt": "You greet {{ customer }} for {{ agent }} on {{ date }}.",
            "prompt_variables": ["customer"],
            "output_schema": {"type": "object", "required": ["greeting"]},
        }
        assert (await http.post("/v1/agents", json=agent)).status_code == 201

        bad = await http.post(
            "/v1/runs", json={"agent": "greeter", "input": "hi", "variables": {"who": "x"}}
        )
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["field"] == "variables.who"

        started = await http.post(
            "/v1/runs", json={"agent": "greeter", "input": "hi", "variables": {"customer": "Ann"}}
        )
        assert started.status_code == 202, started.text
        events = await read_events(http, started.json()["events_url"])
        assert events[-1].event == "run.completed"
        run = (await http.get(f"/v1/runs/{started.json()['run_id']}")).json()
    assert run["output"] == {"greeting": "hello Ann"}
    assert run["usage"]["cost_usd"] > 0
    [request] = fake_provider.requests
    system = request.json["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You greet Ann for greeter on 20")
    assert '"required"' in system["content"]  # the output schema is given to the model


async def test_token_deltas_are_opt_in(
    api_url: str, fake_provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCH_TEST_STREAM_KEY", "k")
    from tests.fakes.provider_server import FakeReply

    fake_provider.queue_reply(FakeReply(text="a streamed answer in pieces", chunk_delay=0.05))
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        provider = {
            "name": "streamer",
            "kind": "openai_compatible",
            "base_url": fake_provider.openai_base_url,
            "api_key_env": "ORCH_TEST_STREAM_KEY",
        }
        assert (await http.post("/v1/providers", json=provider)).status_code == 201
        agent = {"name": "talker", "provider": "streamer", "model": "m"}
        assert (await http.post("/v1/agents", json=agent)).status_code == 201
        body = {"agent": "talker", "input": "hi", "tokens": True}  # its first call streams
        started = (await http.post("/v1/runs", json=body)).json()
        plain = await read_events(http, started["events_url"])
        with_tokens = await read_events(http, started["events_url"] + "?include=tokens")
    assert "llm.delta" not in [e.event for e in plain]
    deltas = [e for e in with_tokens if e.event == "llm.delta"]
    assert len(deltas) > 1
    assert "".join(e.data["data"]["text"] for e in deltas) == plain[-1].data["data"]["answer"]
    # Same stream, same offsets: the deltas just fill the gaps between the other ids.
    assert [e.id for e in with_tokens if e.event != "llm.delta"] == [e.id for e in plain]


async def test_ready_when_database_and_temporal_answer(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "temporal": "ok"}


def test_not_ready_names_what_is_down(seeded: Any, orch_settings: Settings) -> None:
    settings = orch_settings.model_copy(
        update={"temporal_address": "127.0.0.1:9", "allowed_hosts": "testserver"}
    )
    with TestClient(create_app(settings), headers=AUTH) as http:
        assert http.get("/healthz").status_code == 200  # alive all the same
        response = http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready" and body["database"] == "ok"
    assert body["temporal"] != "ok"


async def test_another_workflow_in_the_namespace_is_no_run(
    api_url: str, temporal_client: Client, orch_settings: Settings
) -> None:
    """A workflow of another type shares the namespace: the run routes answer 404 for it, and
    neither read it, stream it nor cancel it."""
    other = f"not-a-run-{uuid.uuid4().hex}"
    handle = await temporal_client.start_workflow(
        "SomeoneElsesWorkflow", id=other, task_queue=f"elsewhere-{uuid.uuid4().hex}"
    )
    try:
        async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
            for method, path in (
                ("GET", f"/v1/runs/{other}"),
                ("GET", f"/v1/runs/{other}/events"),
                ("POST", f"/v1/runs/{other}/stream-token"),
                ("POST", f"/v1/runs/{other}/cancel"),
            ):
                answer = await http.request(method, path)
                assert answer.status_code == 404, (method, path, answer.text)
                assert answer.json() == {"error": "not_found", "detail": f"no run {other!r}"}
        desc = await handle.describe()
        assert desc.status is not None and desc.status.name == "RUNNING"  # not cancelled
    finally:
        await handle.terminate("test over")
