"""The call ledger of non-idempotent tools, against a real store (SQLite and Postgres) and a real
HTTP server: a retry that finds its call begun and unfinished reports `outcome_unknown` and does
not call again; a call that completed is finished with its stored result; an attempt the service
cannot have acted on (a 429) is retried; one it may have acted on (a 500) is reported."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.tools.activity import NOT_REPEATED, ToolActivities
from activities.tools.base import OutboundPolicy, ToolContext
from config_store import call_ledger
from config_store.transcript import TranscriptStore
from tests.fakes.http_api_server import Canned, FakeHttpApiServer
from workflows.types import ToolCall, ToolCallInput, ToolOutcome, ToolSpec


def post_tool(api: FakeHttpApiServer, *, idempotent: bool) -> ToolSpec:
    return ToolSpec(
        name="create",
        kind="http",
        config={"method": "POST", "url": f"{api.base_url}/things", "body": {"a": 1}},
        retry_attempts=3,
        idempotent=idempotent,
    )


@pytest.fixture
def tools(session_factory: sessionmaker[Session], tmp_path: Path) -> ToolActivities:
    allow = OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}))
    return ToolActivities(
        TranscriptStore(session_factory), ToolContext(workspace_dir=tmp_path, outbound=allow)
    )


def call_of(tool: ToolSpec, run_id: str) -> ToolCallInput:
    return ToolCallInput(
        run_id=run_id, seq=2, step=1, call=ToolCall(id="c1", name=tool.name), tool=tool
    )


async def attempt(tools: ToolActivities, call: ToolCallInput, number: int) -> ToolOutcome:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=number)
    return await env.run(tools.tool_call, call)


async def test_a_retry_after_a_cut_off_attempt_is_reported_not_repeated(
    tools: ToolActivities, session_factory: sessionmaker[Session], api: FakeHttpApiServer
) -> None:
    call = call_of(post_tool(api, idempotent=False), "ledger-1")
    # Attempt 1 wrote its row and then the worker stopped, before any result was stored.
    assert call_ledger.start_call(session_factory, "ledger-1", 2, "c1", 1) == "go"

    outcome = await attempt(tools, call, 2)

    assert api.requests == []
    assert not outcome.ok and outcome.error_type == "outcome_unknown"
    assert outcome.error == NOT_REPEATED
    row = call_ledger.get_call(session_factory, "ledger-1", 2)
    assert row is not None and row.finished_at is not None and row.attempt == 1
    # A later attempt returns the stored report, still without calling.
    assert await attempt(tools, call, 3) == outcome and api.requests == []


async def test_a_completed_call_is_finished_with_its_result(
    tools: ToolActivities, session_factory: sessionmaker[Session], api: FakeHttpApiServer
) -> None:
    call = call_of(post_tool(api, idempotent=False), "ledger-2")

    outcome = await attempt(tools, call, 1)

    assert outcome.ok and len(api.requests) == 1
    row = call_ledger.get_call(session_factory, "ledger-2", 2)
    assert row is not None and row.finished_at is not None and row.attempt == 1


async def test_an_idempotent_tool_writes_no_row_and_runs_again(
    tools: ToolActivities, session_factory: sessionmaker[Session], api: FakeHttpApiServer
) -> None:
    call = call_of(post_tool(api, idempotent=True), "ledger-3")

    assert (await attempt(tools, call, 2)).ok
    assert call_ledger.get_call(session_factory, "ledger-3", 2) is None


async def test_a_429_is_retried_and_a_500_is_reported(
    tools: ToolActivities, session_factory: sessionmaker[Session], api: FakeHttpApiServer
) -> None:
    call = call_of(post_tool(api, idempotent=False), "ledger-4")
    api.queue("/things", Canned(status=429))
    with pytest.raises(Exception, match="429"):
        await attempt(tools, call, 1)  # Temporal tries again: the service did not act on it
    row = call_ledger.get_call(session_factory, "ledger-4", 2)
    assert row is not None and row.finished_at is not None
    assert (await attempt(tools, call, 2)).ok
    assert len(api.requests) == 2

    failing = call_of(post_tool(api, idempotent=False), "ledger-5")
    api.queue("/things", Canned(status=500))
    outcome = await attempt(tools, failing, 1)
    assert outcome.error_type == "outcome_unknown" and outcome.error is not None
    assert "answered 500" in outcome.error and "not repeated" in outcome.error
    assert len(api.requests) == 3


async def test_a_call_id_a_model_repeats_in_a_run_is_another_call(
    tools: ToolActivities, session_factory: sessionmaker[Session], api: FakeHttpApiServer
) -> None:
    call = call_of(post_tool(api, idempotent=False), "ledger-6")
    assert (await attempt(tools, call, 1)).ok
    later = dataclasses.replace(call, seq=5)  # the same id, a later position
    assert (await attempt(tools, later, 1)).ok
    assert len(api.requests) == 2
