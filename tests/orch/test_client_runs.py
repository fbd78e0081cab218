"""The SDK over real HTTP: start runs, follow their events, steer them, threads, paging."""

from __future__ import annotations

import asyncio
import time

import pytest

from orch.client import Orch, OrchApiError, OrchTimeoutError, RunEvent
from tests.fakes.provider_server import FakeProviderServer
from tests.support.auth import ADMIN_TOKEN
from tests.support.sdk import call, guarded_calculator, offsets, scripted_agent, sdk, until

pytestmark = pytest.mark.timeout(90)


def _follow_sync(url: str) -> tuple[str, list[RunEvent], str | None, str]:
    with Orch(url, ADMIN_TOKEN, timeout=30) as orch:
        started = orch.start_run("demo", "What is 12*7?")
        events = list(orch.events(started.run_id))
        run = orch.wait(started.run_id, timeout=30)
        return started.run_id, events, run.answer, run.status


async def test_sync_client_starts_a_run_and_follows_it_to_its_end(api_url: str) -> None:
    run_id, events, answer, status = await asyncio.to_thread(_follow_sync, api_url)
    assert offsets(events) == list(range(len(events)))
    assert events[0].type == "run.started" and events[-1].type == "run.completed"
    assert all(e.run_id == run_id for e in events)
    assert [e for e in events if e.terminal] == [events[-1]]
    assert "84" in events[-1].data["answer"] and answer == events[-1].data["answer"]
    assert status == "completed"


async def test_async_client_follows_a_run_and_resumes_after_an_offset(api_url: str) -> None:
    async with sdk(api_url) as orch:
        started = await orch.start_run("demo", "What is 12*7?", tokens=True)
        events = [e async for e in orch.events(started.run_id, tokens=True)]
        assert events[-1].type == "run.completed"
        numbered = [e.offset for e in events]
        assert numbered == list(range(len(events)))
        # Resuming after an offset gives exactly the rest.
        rest = [e async for e in orch.events(started.run_id, after=2)]
        assert [e.offset for e in rest] == [e.offset for e in events if e.type != "llm.delta"][3:]
        run = await orch.wait(started.run_id, timeout=30)
        assert run.status == "completed" and run.steps == 2 and run.tool_calls == 1


async def test_a_tool_call_waits_for_approval_given_through_the_sdk(api_url: str) -> None:
    async with sdk(api_url) as orch:
        tool = await guarded_calculator(orch)
        agent = await scripted_agent(
            orch, [call(tool, "c1", expression="6*7"), {"text": "It is 42."}], tools=(tool,)
        )
        started = await orch.start_run(agent, "6*7?")
        seen: list[RunEvent] = []
        stream = orch.events(started.run_id)
        asked = await until(stream, "approval.requested", seen)
        assert asked.data["call_id"] == "c1" and asked.data["tool"] == tool
        run = await orch.get_run(started.run_id)
        assert run.status == "running" and [p.call_id for p in run.pending] == ["c1"]
        with pytest.raises(OrchApiError) as wrong:
            await orch.approve(started.run_id, "nope")
        assert wrong.value.status == 409 and wrong.value.code == "conflict"
        outcome = await orch.approve(started.run_id, "c1", by="sdk test")
        assert outcome.decision == "approved" and outcome.tool == tool
        rest = [e async for e in stream]
        assert rest[-1].type == "run.completed" and rest[-1].data["answer"] == "It is 42."
        results = [e for e in rest if e.type == "tool.completed"]
        assert results and "42" in str(results[0].data)
        assert offsets(seen + rest) == list(range(len(seen + rest)))


async def test_a_rejected_call_is_told_to_the_model(api_url: str) -> None:
    async with sdk(api_url) as orch:
        tool = await guarded_calculator(orch)
        agent = await scripted_agent(
            orch, [call(tool, "c1", expression="1+1"), {"text": "ok"}], tools=(tool,)
        )
        started = await orch.start_run(agent, "1+1?")
        stream = orch.events(started.run_id)
        await until(stream, "approval.requested", [])
        outcome = await orch.reject(started.run_id, "c1", "not now")
        assert outcome.decision == "rejected"
        assert [e async for e in stream][-1].type == "run.completed"


async def test_an_ask_user_question_is_answered_through_the_sdk(api_url: str) -> None:
    async with sdk(api_url) as orch:
        agent = await scripted_agent(
            orch,
            [call("ask_user", "q1", question="Which city?"), {"text": "Noted."}],
            tools=("ask_user",),
        )
        started = await orch.start_run(agent, "Book me a hotel")
        stream = orch.events(started.run_id)
        asked = await until(stream, "input.requested", [])
        assert asked.data["question"] == "Which city?"
        outcome = await orch.answer(started.run_id, "Lyon", call_id="q1")
        assert outcome.call_id == "q1" and outcome.question == "Which city?"
        rest = [e async for e in stream]
        assert rest[-1].type == "run.completed"
        answered = [e for e in rest if e.type == "tool.completed"]
        assert answered and "Lyon" in str(answered[0].data)


async def test_cancel_ends_a_waiting_run_and_says_so_again(api_url: str) -> None:
    async with sdk(api_url) as orch:
        agent = await scripted_agent(
            orch, [call("ask_user", "q1", question="?"), {"text": "x"}], tools=("ask_user",)
        )
        started = await orch.start_run(agent, "hi")
        stream = orch.events(started.run_id)
        await until(stream, "input.requested", [])
        with pytest.raises(OrchTimeoutError) as waited:  # waiting for a person is running
            await orch.wait(started.run_id, timeout=0.5)
        assert "running" in str(waited.value)
        first = await orch.cancel(started.run_id)
        assert first.status == "cancelling"
        rest = [e async for e in stream]
        assert rest[-1].type == "run.cancelled"
        again = await orch.cancel(started.run_id)
        assert again.status == "cancelled"
        run = await orch.wait(started.run_id, timeout=10)
        assert run.status == "cancelled"
        with pytest.raises(OrchApiError) as unknown:
            await orch.cancel("run-nope")
        assert unknown.value.status == 404 and unknown.value.code == "not_found"


async def test_a_thread_goes_on_over_runs_started_through_the_sdk(api_url: str) -> None:
    async with sdk(api_url) as orch:
        thread = f"t-{time.monotonic_ns()}"
        first = await orch.start_run("demo", "What is 12*7?", thread=thread)
        await orch.wait(first.run_id, timeout=30)
        second = await orch.start_run("demo", "And 2+2?", thread=thread)
        done = await orch.wait(second.run_id, timeout=30)
        assert done.status == "completed" and "4" in (done.answer or "")
        got = await orch.get_thread(thread)
        assert [r.run_id for r in got.runs] == [first.run_id, second.run_id]
        assert got.transcript[4]["text"] == "And 2+2?"
        with pytest.raises(OrchApiError) as missing:
            await orch.get_thread("t-none")
        assert missing.value.status == 404


async def test_runs_are_listed_page_by_page(api_url: str) -> None:
    async with sdk(api_url) as orch:
        agent = await scripted_agent(orch, [{"text": "hi"}])
        ids = set()
        for n in range(3):
            ids.add((await orch.start_run(agent, f"run {n}")).run_id)
        for run_id in ids:
            await orch.wait(run_id, timeout=30)
        deadline = time.monotonic() + 20  # visibility is eventually consistent
        while True:
            page = await orch.list_runs(agent=agent, status="completed", limit=2)
            if len(page.runs) == 2 and page.next_page_token is not None:
                last = await orch.list_runs(
                    agent=agent, status="completed", limit=2, page_token=page.next_page_token
                )
                if len(last.runs) == 1:
                    break
            assert time.monotonic() < deadline, page
            await asyncio.sleep(0.2)
        assert last.next_page_token is None
        assert {r.run_id for r in [*page.runs, *last.runs]} == ids
        assert {r.run_id async for r in orch.iter_runs(agent=agent, limit=2)} == ids
        with pytest.raises(OrchApiError) as bad:
            await orch.list_runs(page_token="garbage")
        assert bad.value.status == 422


async def test_a_route_starts_a_run_of_its_agent(api_url: str) -> None:
    async with sdk(api_url) as orch:
        key = f"r{time.monotonic_ns()}"
        await orch.routes.create({"key": key, "agent": "demo"})
        started = await orch.start_route_run(key, "What is 12*7?")
        assert started.agent == "demo"
        assert "84" in ((await orch.wait(started.run_id, timeout=30)).answer or "")


async def test_token_deltas_come_only_when_asked_for(
    api_url: str, fake_provider: FakeProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCH_TEST_SDK_KEY", "k")
    fake_provider.queue_text("Streamed word by word.")
    async with sdk(api_url) as orch:
        provider = f"fake{time.monotonic_ns()}"
        await orch.providers.create(
            {
                "name": provider,
                "kind": "openai_compatible",
                "base_url": fake_provider.openai_base_url,
                "api_key_env": "ORCH_TEST_SDK_KEY",
            }
        )
        body = {"name": provider, "provider": provider, "model": "m"}
        agent = (await orch.agents.create(body)).name
        started = await orch.start_run(agent, "hi", tokens=True)
        events = [e async for e in orch.events(started.run_id, tokens=True)]
        deltas = [e for e in events if e.type == "llm.delta"]
        assert "".join(e.data["text"] for e in deltas) == "Streamed word by word."
        assert events[-1].data["answer"] == "Streamed word by word."
        assert offsets(events) == list(range(len(events)))
        plain = [e async for e in orch.events(started.run_id)]
    assert [e.offset for e in plain] == [e.offset for e in events if e.type != "llm.delta"]
