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


async def test_an_unknown_outcome_a_person_will_decide_on_is_not_stored(
    tools: ToolActivities, session_factory: sessionmaker[Session], api: FakeHttpApiServer
) -> None:
    tool = dataclasses.replace(post_tool(api, idempotent=False), on_unknown_outcome="ask")
    call = dataclasses.replace(call_of(tool, "ledger-7"), ask_on_unknown=True)
    assert call_ledger.start_call(session_factory, "ledger-7", 2, "c1", 1) == "go"

    outcome = await attempt(tools, call, 2)

    assert not outcome.ok and outcome.error_type == "outcome_unknown"
    assert outcome.error == NOT_REPEATED and api.requests == []
    # Nothing stored and the row still unfinished: a person decides whether it runs again.
    assert TranscriptStore(session_factory).get("ledger-7", 2) is None
    row = call_ledger.get_call(session_factory, "ledger-7", 2)
    assert row is not None and row.finished_at is None and not row.reopened


async def test_an_approved_retry_calls_once_and_a_cut_off_retry_is_reported(
    tools: ToolActivities, session_factory: sessionmaker[Session], api: FakeHttpApiServer
) -> None:
    tool = dataclasses.replace(post_tool(api, idempotent=False), on_unknown_outcome="ask")
    retry = dataclasses.replace(call_of(tool, "ledger-8"), retry_unknown=True)
    assert call_ledger.start_call(session_factory, "ledger-8", 2, "c1", 1) == "go"

    outcome = await attempt(tools, retry, 1)

    assert outcome.ok and len(api.requests) == 1
    row = call_ledger.get_call(session_factory, "ledger-8", 2)
    assert row is not None and row.finished_at is not None and row.reopened

    # The approved retry is itself cut off: its next attempt does not call a third time.
    assert call_ledger.start_call(session_factory, "ledger-9", 2, "c1", 1) == "go"
    assert call_ledger.reopen_call(session_factory, "ledger-9", 2, "c1", 1) == "go"
    cut = dataclasses.replace(retry, run_id="ledger-9")
    reported = await attempt(tools, cut, 2)
    assert reported.error_type == "outcome_unknown" and reported.error == NOT_REPEATED
    assert len(api.requests) == 1
    stored = TranscriptStore(session_factory).get("ledger-9", 2)
    assert stored is not None and stored["error_type"] == "outcome_unknown"
