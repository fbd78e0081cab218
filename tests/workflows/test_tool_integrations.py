"""Integration tools inside real runs: concurrent calls, the outbound guard, and secrets that
never reach results, events, history or logs."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.worker import build_worker
from tests.fakes.http_api_server import Canned, FakeHttpApiServer
from tests.support.runs import demo_spec, events_of, run_agent
from workflows.types import ScriptTurn, ToolCall, ToolSpec

SECRET = "sk-live-TOPSECRET-4242424242"


@pytest_asyncio.fixture
async def allowing_worker(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> AsyncIterator[Settings]:
    """A worker whose tools may reach 127.0.0.1 (the fake API), with a secret in its env."""
    settings = orch_settings.model_copy(
        update={"outbound_allow_hosts": "127.0.0.1", "temporal_task_queue": f"tq-{uuid.uuid4()}"}
    )
    env = {"API_TOKEN": SECRET}
    async with build_worker(temporal_client, settings, TranscriptStore(seeded), env=env):
        yield settings


def api_tool(server: FakeHttpApiServer, path: str, **changes: Any) -> ToolSpec:
    spec = ToolSpec(
        name="lookup",
        kind="http",
        parameters={
            "type": "object",
            "properties": {"item": {"type": "string"}},
            "required": ["item"],
        },
        config={
            "url": f"{server.base_url}{path}/{{item}}",
            "headers": {"Authorization": "Bearer ${API_TOKEN}"},
        },
    )
    return dataclasses.replace(spec, **changes)


FETCH = ToolSpec(name="fetch", kind="http_request")


async def test_calls_of_one_turn_overlap_and_secrets_stay_out_of_everything(
    temporal_client: Client,
    allowing_worker: Settings,
    seeded: Any,
    http_api_server: FakeHttpApiServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http_api_server.reset()
    http_api_server.answer("/slow/a", Canned(echo=True, delay=1.5))
    http_api_server.answer("/slow/b", Canned(echo=True, delay=1.5))
    http_api_server.answer("/denied/c", Canned(status=403, echo=True))
    http_api_server.answer("/down/d", Canned(status=503, echo=True))
    calls = (
        ToolCall(id="a", name="lookup", arguments={"item": "a"}),
        ToolCall(id="b", name="lookup", arguments={"item": "b"}),
        ToolCall(id="c", name="denied", arguments={"item": "c"}),
        ToolCall(id="d", name="down", arguments={"item": "d"}),
        ToolCall(id="m", name="fetch", arguments={"url": "http://169.254.169.254/latest/"}),
    )
    tools = (
        api_tool(http_api_server, "/slow"),
        api_tool(http_api_server, "/denied", name="denied"),
        api_tool(http_api_server, "/down", name="down", retry_attempts=1),
        FETCH,
    )
    spec = demo_spec(
        seeded, tools=tools, script=(ScriptTurn(tool_calls=calls), ScriptTurn(text="done"))
    )
    with caplog.at_level(logging.WARNING):
        run_id, result = await run_agent(temporal_client, allowing_worker, spec, "look up")

    assert result.status == "completed" and result.answer == "done"
    first, second = (
        http_api_server.requests_to("/slow/a")[0],
        http_api_server.requests_to("/slow/b")[0],
    )
    assert abs(first.received_at - second.received_at) < 1.0  # the 1.5 s calls overlapped
    assert first.headers["authorization"] == f"Bearer {SECRET}"
    assert first.headers["idempotency-key"] != second.headers["idempotency-key"]
    events = await events_of(temporal_client, run_id)
    done = {e["data"]["call_id"]: e["data"] for e in events if e["type"] == "tool.completed"}
    assert list(done) == ["a", "b", "c", "d", "m"]  # results in call order
    assert done["a"]["ok"] and "Bearer [redacted]" in done["a"]["result"]
    assert not done["c"]["ok"] and "answered 403" in done["c"]["error"]
    assert "Bearer [redacted]" in done["c"]["error"]  # the API echoed the header back
    assert not done["d"]["ok"] and "answered 503" in done["d"]["error"]
    assert not done["m"]["ok"] and "cloud metadata" in done["m"]["error"]
    # Nowhere: not in events, the workflow history, the transcript or the worker's logs.
    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    transcript = TranscriptStore(seeded).read(run_id)
    for where in (json.dumps(events), history.to_json(), json.dumps(transcript), caplog.text):
        assert SECRET not in where
    assert "tool down failed on its last attempt" in caplog.text
