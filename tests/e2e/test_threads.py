"""Threads over HTTP: a run that continues a conversation sees its earlier turns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.auth import AUTH
from tests.support.sse import read_events

pytestmark = pytest.mark.timeout(90)


async def thread_run(http: httpx.AsyncClient, thread: str, agent: str, text: str) -> dict:
    started = await http.post(f"/v1/threads/{thread}/runs", json={"agent": agent, "input": text})
    assert started.status_code == 202, started.text
    events = await read_events(http, started.json()["events_url"])
    assert events[-1].event == "run.completed", events[-1]
    return {**started.json(), "answer": events[-1].data["data"]["answer"]}


async def test_a_thread_grows_one_transcript_over_its_runs(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        first = await thread_run(http, "t-math", "demo", "What is 12*7?")
        second = await thread_run(http, "t-math", "demo", "And 2+2?")
        assert "84" in first["answer"] and "4" in second["answer"]
        thread = (await http.get("/v1/threads/t-math")).json()
    assert [r["run_id"] for r in thread["runs"]] == [first["run_id"], second["run_id"]]
    messages = thread["transcript"]
    assert [m["seq"] for m in messages] == list(range(8))
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"] * 2
    assert messages[4]["text"] == "And 2+2?"


async def test_the_model_sees_the_earlier_turns(
    api_url: str, fake_provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCH_TEST_THREAD_KEY", "k")
    fake_provider.queue_text("Hello Ann.")
    fake_provider.queue_text("Your name is Ann.")
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        provider = {
            "name": "fake",
            "kind": "openai_compatible",
            "base_url": fake_provider.openai_base_url,
            "api_key_env": "ORCH_TEST_THREAD_KEY",
        }
        assert (await http.post("/v1/providers", json=provider)).status_code == 201
        agent = {"name": "chat", "provider": "fake", "model": "m"}
        assert (await http.post("/v1/agents", json=agent)).status_code == 201
        await thread_run(http, "t-chat", "chat", "My name is Ann.")
        last = await thread_run(http, "t-chat", "chat", "What is my name?")
    assert last["answer"] == "Your name is Ann."
    messages = fake_provider.requests[1].json["messages"]
    sent = [(m["role"], m["content"]) for m in messages if m["role"] != "system"]
    assert sent == [
        ("user", "My name is Ann."),
        ("assistant", "Hello Ann."),
        ("user", "What is my name?"),
    ]


async def test_a_thread_takes_one_run_at_a_time_and_names_are_checked(api_url: str) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=AUTH) as http:
        tool = {"name": "guarded", "kind": "calculator", "requires_approval": True}
        assert (await http.post("/v1/tools", json=tool)).status_code == 201
        agent = {"name": "careful", "provider": "offline", "tools": ["guarded"]}
        assert (await http.post("/v1/agents", json=agent)).status_code == 201
        waiting = await http.post(
            "/v1/threads/t-busy/runs", json={"agent": "careful", "input": "12*7?"}
        )
        assert waiting.status_code == 202
        busy = await http.post("/v1/threads/t-busy/runs", json={"agent": "careful", "input": "x"})
        assert busy.status_code == 409 and "in progress" in busy.json()["detail"]
        await http.post(f"/v1/runs/{waiting.json()['run_id']}/cancel")

        bad = await http.post("/v1/threads/Bad Id!/runs", json={"agent": "demo", "input": "x"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "path.thread_id"
        assert (await http.get("/v1/threads/t-nobody")).status_code == 404
