"""The SDK's event stream outlives the API: stopped mid-stream and started again on the same
port, the iterator carries on after the last offset it delivered, without a duplicate or a gap.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from temporalio.client import Client

from core.settings import Settings
from orch.client import AsyncOrch, Orch, OrchConnectionError, OrchStreamError, RunEvent
from temporal.control import resolve_approval
from tests.support.auth import ADMIN_TOKEN
from tests.support.sdk import call, guarded_calculator, offsets, scripted_agent
from tests.support.temporal import free_port, serving
from workflows.agent_run import AgentRun
from workflows.types import ApprovalDecision

pytestmark = pytest.mark.timeout(120)


def api(settings: Settings, port: int) -> AbstractAsyncContextManager[str]:
    # An open event stream would hold a graceful shutdown forever: cut it after a second.
    return serving(settings, port, timeout_graceful_shutdown=1)


async def waiting_run(url: str) -> str:
    """A run that waits for the approval of call c1 (its stream stays open), then answers."""
    async with AsyncOrch(url, ADMIN_TOKEN) as orch:
        tool = await guarded_calculator(orch)
        agent = await scripted_agent(
            orch, [call(tool, "c1", expression="6*7"), {"text": "42."}], tools=(tool,)
        )
        return (await orch.start_run(agent, "6*7?")).run_id


class Reader:
    """Reads a run's events with the async or the sync client (in a thread), into `events`."""

    def __init__(self, url: str, run_id: str, *, sync: bool, budget: float = 60.0) -> None:
        self.events: list[RunEvent] = []
        self.asked = threading.Event()
        self._url, self._run_id, self._budget = url, run_id, budget
        self.task: asyncio.Future[Any] = (
            asyncio.ensure_future(asyncio.to_thread(self._read_sync))
            if sync
            else asyncio.ensure_future(self._read_async())
        )

    def _seen(self, event: RunEvent) -> None:
        self.events.append(event)
        if event.type == "approval.requested":
            self.asked.set()

    async def _read_async(self) -> None:
        async with AsyncOrch(self._url, ADMIN_TOKEN, reconnect_budget=self._budget) as orch:
            async for event in orch.events(self._run_id):
                self._seen(event)

    def _read_sync(self) -> None:
        with Orch(self._url, ADMIN_TOKEN, reconnect_budget=self._budget) as orch:
            for event in orch.events(self._run_id):
                self._seen(event)

    async def until_asked(self) -> None:
        async with asyncio.timeout(30):
            while not self.asked.is_set():
                assert not self.task.done(), self.task.result()
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
async def test_the_stream_resumes_after_the_api_restarts(
    orch_settings: Settings, worker: None, temporal_client: Client, sync: bool
) -> None:
    """The run goes on to its end while the API is down (approved through Temporal): the
    events published meanwhile come after the restart, each once, in order."""
    port = free_port()
    async with api(orch_settings, port) as url:
        run_id = await waiting_run(url)
        reader = Reader(url, run_id, sync=sync)
        await reader.until_asked()
        before = list(reader.events)
    # The API is down: the reader waits it out, requests say where they could not go.
    async with AsyncOrch(url, ADMIN_TOKEN) as orch:
        with pytest.raises(OrchConnectionError) as down:
            await orch.get_run(run_id)
    assert url in str(down.value)
    decision = ApprovalDecision(call_id="c1", approve=True, reason="", by="test")
    await resolve_approval(temporal_client, run_id, decision)
    async with asyncio.timeout(30):
        await temporal_client.get_workflow_handle_for(AgentRun.run, run_id).result()
    assert not reader.task.done() and reader.events == before
    async with api(orch_settings, port):
        async with asyncio.timeout(30):
            await reader.task
    events = reader.events
    assert events[: len(before)] == before
    assert offsets(events) == list(range(len(events)))  # no duplicate, no gap
    kinds = [e.type for e in events]
    assert kinds.count("approval.requested") == 1 and kinds.count("run.started") == 1
    after = kinds[len(before) :]
    assert "approval.resolved" in after or "tool.completed" in after, after
    assert after[-1] == "run.completed" and events[-1].data["answer"] == "42."


async def test_a_stream_lost_beyond_its_budget_says_where_to_resume(
    orch_settings: Settings, worker: None
) -> None:
    port = free_port()
    async with api(orch_settings, port) as url:
        run_id = await waiting_run(url)
        reader = Reader(url, run_id, sync=False, budget=1.5)
        await reader.until_asked()
    async with asyncio.timeout(30):
        with pytest.raises(OrchStreamError) as lost:
            await reader.task
    err = lost.value
    assert err.last_offset == reader.events[-1].offset and err.run_id == run_id
    assert url in str(err) and f"after={err.last_offset}" in str(err)
    async with api(orch_settings, port), AsyncOrch(url, ADMIN_TOKEN) as orch:
        await orch.approve(run_id, "c1")
        rest = [e async for e in orch.events(run_id, after=err.last_offset)]
    assert offsets(reader.events + rest) == list(range(len(reader.events) + len(rest)))
    assert rest[-1].type == "run.completed"
