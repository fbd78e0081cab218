"""launch_run renders the system prompt before it starts the workflow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from config_store.agents import create_agent
from config_store.db import is_sqlite
from config_store.providers import create_provider
from config_store.runs import list_runs
from config_store.snapshot_cache import SNAPSHOTS
from config_store.specs import AgentIn, ProviderIn
from core.errors import InvalidConfig
from services.runs import launch_run
from workflows.types import RunInput

PROMPT = "{{ agent }} for {{ customer }} on {{ date }}: {{ input }}"


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory.begin() as s:
        create_provider(s, "p", ProviderIn(kind="scripted", default_model="m"))
        create_agent(
            s, "helper", AgentIn(provider="p", system_prompt=PROMPT, prompt_variables=["customer"])
        )
    return session_factory


async def test_the_run_starts_with_the_rendered_prompt(
    factory: sessionmaker[Session], temporal_client: Client
) -> None:
    run_id, spec = await launch_run(
        factory,
        temporal_client,
        task_queue=f"tq-{uuid.uuid4().hex}",  # no worker: the run just waits
        text="hello",
        agent="helper",
        variables={"customer": "Ann"},
        today=date(2026, 11, 25),
    )
    handle = temporal_client.get_workflow_handle(run_id)
    try:
        assert spec.system_prompt == "helper for Ann on 2026-11-25: hello"
        assert spec.prompt_variables == ("customer",)
        history = await handle.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [run_input] = await temporal_client.data_converter.decode(
            started.input.payloads, [RunInput]
        )
        assert isinstance(run_input, RunInput)
        assert run_input.agent.system_prompt == "helper for Ann on 2026-11-25: hello"
    finally:
        await handle.terminate("test over")
    with factory() as s:
        assert [r.run_id for r in list_runs(s)] == [run_id]


async def test_a_bad_variable_starts_nothing(
    factory: sessionmaker[Session], temporal_client: Client
) -> None:
    with pytest.raises(InvalidConfig) as err:
        await launch_run(
            factory,
            temporal_client,
            task_queue="unused",
            text="hello",
            agent="helper",
            variables={},
        )
    assert err.value.field == "variables.customer"
    with factory() as s:
        assert list_runs(s) == []


async def test_a_start_temporal_refuses_leaves_no_record(
    factory: sessionmaker[Session], temporal_client: Client
) -> None:
    """The record is written while the workflow starts: a start that fails takes it back."""
    elsewhere = Client(temporal_client.service_client, namespace=f"none-{uuid.uuid4().hex}")
    with pytest.raises(RPCError):
        await launch_run(
            factory,
            elsewhere,
            task_queue="unused",
            text="hello",
            agent="helper",
            variables={"customer": "Ann"},
        )
    with factory() as s:
        assert list_runs(s) == []


async def test_a_held_snapshot_is_read_without_a_thread_on_sqlite(
    factory: sessionmaker[Session], temporal_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite, a start outside a thread whose snapshot the process holds and whose prompt is
    plain text reads it on the event loop; a template, a thread, or another database, is
    prepared in a thread."""
    with factory.begin() as s:
        create_agent(s, "plain", AgentIn(provider="p", system_prompt="Be brief."))
    SNAPSHOTS.clear()
    hops: list[str] = []
    real = asyncio.to_thread

    async def counted(work: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(work, "__name__", "?"))
        return await real(work, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    seen: list[list[str]] = []
    for agent, variables in [("plain", {}), ("plain", {}), ("helper", {"customer": "Ann"})] * 2:
        hops.clear()
        run_id, spec = await launch_run(
            factory,
            temporal_client,
            task_queue=f"tq-{uuid.uuid4().hex}",
            text="hello",
            agent=agent,
            variables=variables,
            today=date(2026, 12, 2),
        )
        await temporal_client.get_workflow_handle(run_id).terminate("test over")
        rendered = "helper for Ann on 2026-12-02: hello"
        assert spec.system_prompt == ("Be brief." if agent == "plain" else rendered)
        seen.append(sorted(hops))
    thread, loop = ["prepare", "record"], ["record"]
    held = loop if is_sqlite(factory) else thread
    assert seen == [thread, held, thread, held, held, thread]

    hops.clear()  # a thread's runs grow with it: read in a thread, held snapshot or not
    run_id, _ = await launch_run(
        factory, temporal_client, task_queue="unused", text="hello", agent="plain", thread="t-1"
    )
    await temporal_client.get_workflow_handle(run_id).terminate("test over")
    assert sorted(hops) == thread
