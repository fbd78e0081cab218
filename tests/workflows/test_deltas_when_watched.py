"""Token deltas are sent only while someone follows the run's stream (patch deltas-when-watched):
a streamed answer nobody watches costs no signal; a subscriber (the SDK's stream client, the
API's SSE) still gets every delta."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.workflow_streams import _stream

from core.settings import Settings
from tests.fakes.provider_server import FakeProviderServer, FakeReply, FakeToolCall
from tests.support.auth import AUTH
from tests.support.provider import fake_openai
from tests.support.runs import demo_spec, events_of, patch_markers, start_agent
from tests.support.sse import read_events
from workflows.agent_run import AgentRun
from workflows.carried_stream import PUBLISH_SIGNAL
from workflows.stream_watch import PATCH, POLL_UPDATE
from workflows.types import ProviderSpec

pytestmark = [pytest.mark.usefixtures("worker"), pytest.mark.timeout(120)]

KEY_ENV = "ORCH_TEST_PROVIDER_KEY"
ANSWER = "Twelve times seven is 84, as anyone can check."


@pytest.fixture(autouse=True)
def provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test")


def streaming(fake: FakeProviderServer) -> ProviderSpec:
    fake.queue_reply(FakeReply(text=ANSWER, chunk_delay=0.03))
    return fake_openai(fake, KEY_ENV)


async def history_counts(client: Client, run_id: str) -> tuple[int, bool]:
    """The delta signals the run's history holds, and whether the patch is in effect in it (its
    marker, or the baseline's)."""
    history = await client.get_workflow_handle(run_id).fetch_history()
    signals = sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and e.workflow_execution_signaled_event_attributes.signal_name == PUBLISH_SIGNAL
    )
    return signals, PATCH in patch_markers(history)


def test_the_poll_update_is_the_one_the_watch_wraps() -> None:
    assert _stream._POLL == POLL_UPDATE


async def test_a_streamed_run_nobody_follows_sends_no_deltas(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
) -> None:
    spec = demo_spec(seeded, provider=streaming(fake_provider), model="m", tools=())
    alone = await start_agent(temporal_client, orch_settings, spec, "What is 12*7?")
    alone_result = await temporal_client.get_workflow_handle_for(AgentRun.run, alone).result()
    assert fake_provider.requests[-1].json.get("stream") is None  # nobody to stream to

    spec = demo_spec(seeded, provider=streaming(fake_provider), model="m", tools=())
    # Followed from its start (`"tokens": true`): its one model call streams to the reader.
    followed = await start_agent(temporal_client, orch_settings, spec, "What is 12*7?", follow=True)
    followed_events = await events_of(temporal_client, followed, deltas=True)
    followed_result = await temporal_client.get_workflow_handle_for(AgentRun.run, followed).result()

    signals, patched = await history_counts(temporal_client, alone)
    assert (signals, patched) == (0, True)
    alone_events = await events_of(temporal_client, alone, deltas=True)
    assert "llm.delta" not in [e["type"] for e in alone_events]
    # Otherwise the same run: the same answer, assembled from the stream, the same events.
    assert alone_result.answer == followed_result.answer == ANSWER
    assert (alone_result.status, alone_result.steps) == (followed_result.status, 1)

    def shape(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
        return [(e["type"], e["data"].get("text")) for e in events if e["type"] != "llm.delta"]

    assert shape(alone_events) == shape(followed_events)
    deltas = [e["data"]["text"] for e in followed_events if e["type"] == "llm.delta"]
    assert len(deltas) > 1 and "".join(deltas) == ANSWER
    signals, patched = await history_counts(temporal_client, followed)
    assert signals > 0 and patched


@pytest.mark.parametrize("follow", [False, True])
async def test_a_run_nobody_follows_calls_the_model_without_streaming(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    follow: bool,
) -> None:
    provider = fake_openai(fake_provider, KEY_ENV)
    calc = FakeToolCall("calculator", {"expression": "6*7"})
    for _ in range(2):
        fake_provider.queue_reply(FakeReply(text="Let me compute.", tool_calls=(calc,)))
    fake_provider.queue_reply(FakeReply(text=ANSWER))
    before = len(fake_provider.requests)
    spec = demo_spec(seeded, provider=provider, model="m")
    run_id = await start_agent(
        temporal_client, orch_settings, spec, "What is 6*7, twice?", follow=follow
    )
    result = await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()
    assert (result.status, result.steps, result.answer) == ("completed", 3, ANSWER)
    streamed = [r.json.get("stream") is True for r in fake_provider.requests[before:]]
    # A caller that said it follows from the start gets the first call streamed; nobody polls
    # the stream here, so the later calls are plain requests either way.
    assert streamed == [follow, False, False]
    signals, patched = await history_counts(temporal_client, run_id)
    assert patched and (signals > 0) == follow  # "Let me compute." streamed, or not
    texts = [e["data"].get("text") for e in await events_of(temporal_client, run_id)]
    assert ANSWER in texts and texts.count("Let me compute.") == 2


async def test_an_sse_subscriber_gets_the_deltas(
    api_url: str, fake_provider: FakeProviderServer, temporal_client: Client
) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        provider = {
            "name": "streamer",
            "kind": "openai_compatible",
            "base_url": fake_provider.openai_base_url,
            "api_key_env": KEY_ENV,
        }
        assert (await http.post("/v1/providers", json=provider)).status_code == 201
        agent = {"name": "talker", "provider": "streamer", "model": "m"}
        assert (await http.post("/v1/agents", json=agent)).status_code == 201
        fake_provider.queue_reply(FakeReply(text=ANSWER, chunk_delay=0.03))
        body = {"agent": "talker", "input": "hi", "tokens": True}  # followed from its start
        started = (await http.post("/v1/runs", json=body)).json()
        events = await asyncio.wait_for(
            read_events(http, started["events_url"] + "?include=tokens"), 60
        )
    deltas = [e.data["data"]["text"] for e in events if e.event == "llm.delta"]
    assert len(deltas) > 1 and "".join(deltas) == ANSWER
    signals, _ = await history_counts(temporal_client, started["run_id"])
    assert signals > 0
