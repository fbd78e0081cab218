"""Reading a run's events from Temporal's history, with no worker: the stream state a
continue-as-new carried in, decoded from the stream's wire form (base64 of a Payload)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.contrib.workflow_streams import WorkflowStreamState
from temporalio.converter import value_to_type

from core.settings import Settings
from temporal.history import last_events, start_input
from temporal.runs import start_run
from tests.support.runs import demo_spec
from workflows.types import EVENTS_TOPIC, RunInput


def wire(client: Client, value: Any) -> str:
    payload = client.data_converter.payload_converter.to_payloads([value])[0]
    return base64.b64encode(payload.SerializeToString()).decode("ascii")


def event(kind: str, step: int) -> dict[str, Any]:
    return {"type": kind, "run_id": "r", "step": step, "time": "2026-12-01T12:00:00+00:00"}


async def test_carried_events_are_read_without_a_worker(
    temporal_client: Client, orch_settings: Settings, seeded: sessionmaker[Session]
) -> None:
    client = temporal_client
    log = [
        {"topic": EVENTS_TOPIC, "offset": 7, "data": wire(client, event("run.started", 0))},
        {"topic": EVENTS_TOPIC, "offset": 8, "data": wire(client, event("llm.delta", 1))},
        {"topic": "other", "offset": 9, "data": wire(client, event("step.started", 1))},
        {"topic": EVENTS_TOPIC, "offset": 10, "data": "not base64!"},
        {"topic": EVENTS_TOPIC, "offset": 11, "data": wire(client, {"no": "type"})},
        {"topic": EVENTS_TOPIC, "offset": 12, "data": wire(client, event("step.started", 1))},
        {"topic": EVENTS_TOPIC, "offset": 13, "data": wire(client, event("llm.completed", 1))},
    ]
    state = value_to_type(WorkflowStreamState, {"log": log, "base_offset": 7})
    run_id = f"run-{uuid.uuid4().hex}"
    # Started straight with a carried stream, as a continue-as-new does; no worker polls.
    await start_run(
        client,
        task_queue=orch_settings.temporal_task_queue,
        run_id=run_id,
        agent=demo_spec(seeded),
        input="hi",
    )
    carried = await start_input(client, run_id)
    assert isinstance(carried, RunInput) and carried.agent.name == "demo"
    carried = replace(carried, stream_state=state)

    events = await last_events(client, run_id, limit=20, carried=carried)
    assert [(e.offset, e.type, e.step) for e in events] == [
        (7, "run.started", 0),  # the token delta, other topics and undecodable items left out
        (12, "step.started", 1),
        (13, "llm.completed", 1),
    ]
    assert [e.offset for e in await last_events(client, run_id, limit=2, carried=carried)] == [
        12,
        13,
    ]
    assert await last_events(client, run_id, limit=20) == []  # nobody polled its stream
