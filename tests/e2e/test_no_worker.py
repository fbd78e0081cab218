"""With no worker polling a run's task queue, the API still answers at once: the run's view
from what Temporal holds (`live: false` and why), an events stream that says why it is not live
(and goes on when a worker comes), 503 no_worker for approvals and answers, and a cancel that
Temporal records by itself. With a worker, the same calls work as before
(tests/e2e/test_run_control.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.workflow_streams import WorkflowStreamClient

from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.worker import build_worker
from tests.support.auth import AUTH
from tests.support.runs import demo_spec, guarded, start_agent
from tests.support.sse import Event, events_of
from workflows.agent_run import AgentRun
from workflows.types import EVENTS_TOPIC

pytestmark = pytest.mark.timeout(90)

SHOWN = "shown: what Temporal holds of the run without a worker"


async def timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


async def test_with_no_worker_a_running_run_answers_at_once_and_says_why(
    api_url_without_worker: str,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: sessionmaker[Session],
) -> None:
    spec = guarded(demo_spec(seeded))
    queue = orch_settings.temporal_task_queue
    run_id = await start_agent(temporal_client, orch_settings, spec, "12*7?")
    async with httpx.AsyncClient(base_url=api_url_without_worker, timeout=30, headers=AUTH) as http:
        read, took = await timed(http.get(f"/v1/runs/{run_id}"))
        assert read.status_code == 200, read.text
        assert took < 2
        view = read.json()
        assert view["live"] is False
        assert view["notice"] == (
            f"no worker polls the task queue {queue!r}: the live state is unavailable; {SHOWN}"
        )
        assert view["status"] == "running"
        assert (view["agent"], view["agent_version"]) == ("demo", spec.version)
        assert view["started_at"] is not None and view["closed_at"] is None
        assert view["last_events"] == []  # nothing ran: no event was ever published
        assert view["stop_reason"] is None and view["answer"] is None

        for path, body in [
            (f"/v1/runs/{run_id}/approvals/call_0_0", {"decision": "approve"}),
            (f"/v1/runs/{run_id}/input", {"text": "yes"}),
        ]:
            refused, took = await timed(http.post(path, json=body))
            assert took < 5
            assert refused.status_code == 503, refused.text
            assert refused.json() == {
                "error": "no_worker",
                "detail": f"no worker polls the task queue {queue!r}: the run cannot take this "
                "now; start a worker on that task queue and try again",
            }

        cancelled, took = await timed(http.post(f"/v1/runs/{run_id}/cancel"))
        assert took < 5
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelling"
        assert (await http.get("/v1/runs/run-nope")).status_code == 404

    history = await temporal_client.get_workflow_handle(run_id).fetch_history()
    kinds = [event.event_type for event in history.events]
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED in kinds

    # Temporal kept the cancel: the run ends cancelled as soon as a worker takes it up.
    async with build_worker(temporal_client, orch_settings, TranscriptStore(seeded)):
        handle = temporal_client.get_workflow_handle(run_id)
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(handle.result(), 30)
        async with httpx.AsyncClient(base_url=api_url_without_worker, headers=AUTH) as http:
            view = (await http.get(f"/v1/runs/{run_id}")).json()
    assert view["status"] == "cancelled" and view["live"] is True


async def test_once_the_worker_is_gone_the_run_shows_the_events_it_had_published(
    api_url_without_worker: str,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: sessionmaker[Session],
) -> None:
    spec = guarded(demo_spec(seeded))
    queue = orch_settings.temporal_task_queue
    seen: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=api_url_without_worker, timeout=30, headers=AUTH) as http:
        async with build_worker(temporal_client, orch_settings, TranscriptStore(seeded)):
            run_id = await start_agent(temporal_client, orch_settings, spec, "12*7?")
            stream = WorkflowStreamClient.create(temporal_client, run_id)
            async for item in stream.subscribe([EVENTS_TOPIC]):
                seen.append({"offset": item.offset, **item.data})
                if item.data["type"] == "approval.requested":
                    break
            live = (await http.get(f"/v1/runs/{run_id}")).json()
            assert live["live"] is True and live["notice"] is None
            assert live["last_events"] is None and live["status"] == "running"

        # Temporal lists the gone worker's pollers for minutes: the state query is tried, and
        # bounded.
        read, took = await timed(http.get(f"/v1/runs/{run_id}"))
        assert read.status_code == 200, read.text
        assert took < 3
        view = read.json()
        assert view["live"] is False and view["status"] == "running"
        assert view["notice"] == (
            f"no worker polling the task queue {queue!r} answered within 1.5 s: "
            f"the live state is unavailable; {SHOWN}"
        )
        shown = view["last_events"]
        assert [e["offset"] for e in shown] == [e["offset"] for e in seen]
        assert [e["type"] for e in shown] == [e["type"] for e in seen]
        assert shown[-1]["data"] == seen[-1]["data"]  # the call waiting for approval
        assert view["steps"] == seen[-1]["step"] == 1

        call_id = seen[-1]["data"]["call_id"]
        refused, took = await timed(
            http.post(f"/v1/runs/{run_id}/approvals/{call_id}", json={"decision": "approve"})
        )
        assert took < 5
        assert refused.status_code == 503 and refused.json()["error"] == "no_worker"
        assert refused.json()["detail"] == (
            f"no worker polling the task queue {queue!r} took the update within 2.5 s; "
            "it may still reach the run when a worker takes it"
        )

    # As the 503 says, the Update may still reach the run: a worker that comes back takes it.
    async with build_worker(temporal_client, orch_settings, TranscriptStore(seeded)):
        handle = temporal_client.get_workflow_handle_for(AgentRun.run, run_id)
        result = await asyncio.wait_for(handle.result(), 30)
    assert result.status == "completed" and "84" in (result.answer or "")


async def test_with_no_worker_the_events_stream_says_so_and_goes_on_when_one_comes(
    api_url_without_worker: str,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: sessionmaker[Session],
) -> None:
    queue = orch_settings.temporal_task_queue
    run_id = await start_agent(temporal_client, orch_settings, demo_spec(seeded), "12*7?")
    events: list[Event] = []
    async with (
        httpx.AsyncClient(base_url=api_url_without_worker, timeout=30, headers=AUTH) as http,
        http.stream("GET", f"/v1/runs/{run_id}/events") as response,
    ):
        stream = events_of(response)
        first, took = await timed(anext(stream))
        assert took < 3
        # Nothing ran, so the history holds no event: the notice comes first, with no id.
        assert (first.event, first.id) == ("stream.unavailable", None)
        assert first.data == {
            "notice": f"no worker polls the task queue {queue!r}: the live stream is "
            "unavailable; the stream goes on when a worker polls the task queue",
            "task_queue": queue,
        }
        async with build_worker(temporal_client, orch_settings, TranscriptStore(seeded)):
            async with asyncio.timeout(30):
                events = [event async for event in stream]
    assert [e.id for e in events] == [str(n) for n in range(len(events))]
    assert events[0].event == "run.started" and events[-1].event == "run.completed"
    assert "84" in events[-1].data["data"]["answer"]

    # An unknown run is still a 404 before any stream.
    async with httpx.AsyncClient(base_url=api_url_without_worker, timeout=30, headers=AUTH) as http:
        assert (await http.get("/v1/runs/run-nope/events")).status_code == 404
