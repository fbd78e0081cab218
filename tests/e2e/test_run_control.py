"""Steering runs over HTTP: cancel, approve or reject a tool call, answer the agent's question."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.runs import start_run
from tests.support.auth import AUTH
from tests.support.runs import demo_spec, guarded, stuck_spec
from tests.support.sse import Event, read_events
from workflows.types import AgentSpec, ScriptTurn, ToolCall, ToolSpec

pytestmark = pytest.mark.timeout(90)


async def start(client: Client, settings: Settings, spec: AgentSpec, text: str) -> str:
    run_id = f"run-{uuid.uuid4().hex}"
    await start_run(
        client, task_queue=settings.temporal_task_queue, run_id=run_id, agent=spec, input=text
    )
    return run_id


async def wait_for(http: httpx.AsyncClient, run_id: str, event: str) -> Event:
    """Follow the run's events until `event` arrives (the stream stays open behind it)."""
    async with http.stream("GET", f"/v1/runs/{run_id}/events") as response:
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line == "":
                if fields.get("event") == event:
                    return Event(fields.get("id"), event, json.loads(fields["data"]))
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.strip()
    raise AssertionError(f"the stream ended without {event}")


async def test_cancel_ends_the_run_cancelled_and_is_idempotent(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any, monkeypatch: Any
) -> None:
    run_id = await start(temporal_client, orch_settings, stuck_spec(seeded, monkeypatch), "hi")
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        await wait_for(http, run_id, "step.started")
        first = await http.post(f"/v1/runs/{run_id}/cancel")
        assert first.status_code == 202 and first.json()["status"] == "cancelling"
        events = await read_events(http, f"/v1/runs/{run_id}/events")
        assert events[-1].event == "run.cancelled" and events[-1].id is not None
        again = await http.post(f"/v1/runs/{run_id}/cancel")
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
        run = (await http.get(f"/v1/runs/{run_id}")).json()
        assert run["status"] == "cancelled" and run["stop_reason"] == "cancelled"
        unknown = await http.post("/v1/runs/run-nope/cancel")
        assert unknown.status_code == 404


async def test_an_approved_call_runs_and_a_wrong_id_is_a_409(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id = await start(temporal_client, orch_settings, guarded(demo_spec(seeded)), "12*7?")
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        asked = await wait_for(http, run_id, "approval.requested")
        call_id = asked.data["data"]["call_id"]
        assert asked.data["data"]["tool"] == "calculator"
        assert asked.data["data"]["arguments"] == {"expression": "12*7"}
        state = (await http.get(f"/v1/runs/{run_id}")).json()
        assert state["status"] == "running"

        wrong = await http.post(f"/v1/runs/{run_id}/approvals/nope", json={"decision": "approve"})
        assert wrong.status_code == 409 and "nope" in wrong.json()["detail"]
        bad = await http.post(f"/v1/runs/{run_id}/approvals/{call_id}", json={"decision": "maybe"})
        assert bad.status_code == 422

        ok = await http.post(
            f"/v1/runs/{run_id}/approvals/{call_id}", json={"decision": "approve", "by": "ann"}
        )
        assert ok.status_code == 200
        assert ok.json() == {"call_id": call_id, "tool": "calculator", "decision": "approved"}
        events = await read_events(http, f"/v1/runs/{run_id}/events")
        resolved = next(e.data["data"] for e in events if e.event == "approval.resolved")
        assert resolved["decision"] == "approved" and resolved["by"] == "ann"
        assert events[-1].event == "run.completed" and "84" in events[-1].data["data"]["answer"]
        late = await http.post(
            f"/v1/runs/{run_id}/approvals/{call_id}", json={"decision": "approve"}
        )
        assert late.status_code == 409


async def test_a_rejected_call_tells_the_model_why(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    run_id = await start(temporal_client, orch_settings, guarded(demo_spec(seeded)), "12*7?")
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        asked = await wait_for(http, run_id, "approval.requested")
        call_id = asked.data["data"]["call_id"]
        no = await http.post(
            f"/v1/runs/{run_id}/approvals/{call_id}",
            json={"decision": "reject", "reason": "not during the audit"},
        )
        assert no.status_code == 200 and no.json()["decision"] == "rejected"
        events = await read_events(http, f"/v1/runs/{run_id}/events")
    tool = next(e.data["data"] for e in events if e.event == "tool.completed")
    assert tool["ok"] is False and "not during the audit" in tool["error"]
    assert "not during the audit" in events[-1].data["data"]["answer"]


async def test_an_unanswered_approval_expires(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    spec = guarded(demo_spec(seeded), approval_timeout_s=2.0)
    run_id = await start(temporal_client, orch_settings, spec, "12*7?")
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        events = await read_events(http, f"/v1/runs/{run_id}/events")
    resolved = next(e.data["data"] for e in events if e.event == "approval.resolved")
    assert resolved["decision"] == "expired"
    assert events[-1].event == "run.completed"
    assert "nobody approved" in events[-1].data["data"]["answer"]


async def test_the_agent_asks_and_a_person_answers(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    ask = ToolSpec(name="ask_user", kind="ask_user", parameters={"type": "object"})
    question = ToolCall(id="q1", name="ask_user", arguments={"question": "Which city?"})
    spec = replace(
        demo_spec(seeded),
        tools=(*demo_spec(seeded).tools, ask),
        script=(ScriptTurn(tool_calls=(question,)), ScriptTurn(text="Noted.")),
    )
    run_id = await start(temporal_client, orch_settings, spec, "plan a trip")
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        asked = await wait_for(http, run_id, "input.requested")
        assert asked.data["data"] == {"call_id": "q1", "question": "Which city?"}
        state = (await http.get(f"/v1/runs/{run_id}")).json()
        assert state["status"] == "running"
        wrong = await http.post(f"/v1/runs/{run_id}/input", json={"text": "x", "call_id": "q9"})
        assert wrong.status_code == 409
        answered = await http.post(f"/v1/runs/{run_id}/input", json={"text": "Paris"})
        assert answered.status_code == 200
        assert answered.json() == {"call_id": "q1", "question": "Which city?"}
        events = await read_events(http, f"/v1/runs/{run_id}/events")
        after = await http.post(f"/v1/runs/{run_id}/input", json={"text": "again"})
        assert after.status_code == 409
    received = next(e.data["data"] for e in events if e.event == "input.received")
    assert received["call_id"] == "q1"
    assert events[-1].event == "run.completed" and events[-1].data["data"]["answer"] == "Noted."
    tool_texts = [b["text"] for _, b in TranscriptStore(seeded).read(run_id) if b["role"] == "tool"]
    assert received["text"] == "Paris" and tool_texts == ["Paris"]


async def test_a_client_that_leaves_releases_the_run_subscription(
    temporal_client: Client, orch_settings: Settings, seeded: Any, worker: None
) -> None:
    import asyncio

    import uvicorn

    from api.app import create_app
    from tests.support.temporal import free_port

    port = free_port()
    app = create_app(orch_settings.model_copy(update={"api_port": port}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        run_id = await start(temporal_client, orch_settings, guarded(demo_spec(seeded)), "12*7?")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, headers=AUTH
        ) as http:
            await wait_for(http, run_id, "approval.requested")  # returns with the stream closed
            hub = app.state.events
            for _ in range(100):
                if run_id not in hub.watched:
                    break
                await asyncio.sleep(0.02)
            assert run_id not in hub.watched
            await http.post(f"/v1/runs/{run_id}/cancel")
    finally:
        server.should_exit = True
        await serving
