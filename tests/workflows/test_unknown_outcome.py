"""A non-idempotent call whose earlier attempt was cut off (its ledger row begun and unfinished):
with the tool's `on_unknown_outcome: ask` the run waits for a person to approve a retry. Approved:
the call runs once more and its result reaches the model; rejected or expired: the model gets
`outcome_unknown` and the service is not called. `report` (the default) does not ask."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle

from config_store import call_ledger
from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.runs import get_run, start_run
from temporal.worker import build_worker
from tests.fakes.http_api_server import Canned, FakeHttpApiServer
from tests.support.auth import AUTH
from tests.support.runs import demo_spec, events_of, patch_markers
from tests.support.temporal import serving
from workflows.agent_run import AgentRun
from workflows.kinds import OnUnknownOutcome
from workflows.tool_steps import ASK_ON_UNKNOWN_OUTCOME
from workflows.types import (
    ApprovalDecision,
    PendingAction,
    RunResult,
    ScriptTurn,
    ToolCall,
    ToolSpec,
)

CALL = ToolCall(id="cut", name="create", arguments={})


@pytest_asyncio.fixture
async def allowing_worker(
    temporal_client: Client, orch_settings: Settings, seeded: Any
) -> AsyncIterator[Settings]:
    """A worker whose tools may reach 127.0.0.1 (the fake API)."""
    settings = orch_settings.model_copy(
        update={"outbound_allow_hosts": "127.0.0.1", "temporal_task_queue": f"tq-{uuid.uuid4()}"}
    )
    async with build_worker(temporal_client, settings, TranscriptStore(seeded)):
        yield settings


@pytest.fixture
def api(http_api_server: FakeHttpApiServer) -> FakeHttpApiServer:
    http_api_server.reset()
    http_api_server.answer("/things", Canned(json={"created": 7}))
    return http_api_server


async def start_cut_off(
    client: Client,
    settings: Settings,
    seeded: sessionmaker[Session],
    api: FakeHttpApiServer,
    on_unknown_outcome: OnUnknownOutcome,
    **changes: Any,
) -> WorkflowHandle[Any, RunResult]:
    """A run whose one POST finds its ledger row begun and unfinished, as if an earlier attempt's
    worker had died during the call."""
    run_id = f"run-{uuid.uuid4().hex}"
    for seq in range(6):  # wherever in the transcript the call lands
        assert call_ledger.start_call(seeded, run_id, seq, CALL.id, 1) == "go"
    tool = ToolSpec(
        name="create",
        kind="http",
        config={"method": "POST", "url": f"{api.base_url}/things", "body": {"a": 1}},
        idempotent=False,
        on_unknown_outcome=on_unknown_outcome,
    )
    script = (ScriptTurn(tool_calls=(CALL,)), ScriptTurn(text="done"))
    spec = demo_spec(seeded, tools=(tool,), script=script, **changes)
    await start_run(
        client, task_queue=settings.temporal_task_queue, run_id=run_id, agent=spec, input="go"
    )
    return client.get_workflow_handle_for(AgentRun.run, run_id)


async def wait_pending(handle: WorkflowHandle[Any, Any]) -> PendingAction:
    for _ in range(200):
        state = await handle.query(AgentRun.state)
        if state.pending:
            return state.pending[0]
        await asyncio.sleep(0.05)
    raise AssertionError("the run never waited for a person")


def tool_result(seeded: sessionmaker[Session], run_id: str) -> dict[str, Any]:
    return next(b for _, b in TranscriptStore(seeded).read(run_id) if b["role"] == "tool")


async def test_approved_the_call_runs_once_more_and_its_result_reaches_the_model(
    temporal_client: Client, allowing_worker: Settings, seeded: Any, api: FakeHttpApiServer
) -> None:
    handle = await start_cut_off(temporal_client, allowing_worker, seeded, api, "ask")
    asked = await wait_pending(handle)
    assert (asked.kind, asked.call_id, asked.cause) == ("approval", "cut", "outcome_unknown")
    view = await get_run(temporal_client, handle.id)
    assert [(p.kind, p.cause) for p in view.pending] == [("approval", "outcome_unknown")]
    assert api.requests == []  # not called before a person said so

    outcome = await handle.execute_update(
        AgentRun.resolve_approval, ApprovalDecision(call_id="cut", approve=True, by="ops")
    )
    assert outcome.decision == "approved"
    result = await handle.result()

    assert result.status == "completed" and result.answer == "done"
    assert len(api.requests_to("/things")) == 1 and result.tool_errors == 0
    events = await events_of(temporal_client, handle.id)
    requested = next(e["data"] for e in events if e["type"] == "approval.requested")
    resolved = next(e["data"] for e in events if e["type"] == "approval.resolved")
    assert requested["cause"] == resolved["cause"] == "outcome_unknown"
    assert (resolved["decision"], resolved["by"]) == ("approved", "ops")
    done = [e["data"] for e in events if e["type"] == "tool.completed"]
    assert len(done) == 1 and done[0]["ok"] and '"created"' in done[0]["result"]
    # What the next model call read: the retried call's result.
    body = tool_result(seeded, handle.id)
    assert not body.get("is_error") and '"created"' in body["text"]
    assert (await get_run(temporal_client, handle.id)).pending == []
    history = await handle.fetch_history()
    assert patch_markers(history).count(ASK_ON_UNKNOWN_OUTCOME) == 1


@pytest.mark.parametrize("ending", ["rejected", "expired"])
async def test_rejected_or_expired_the_model_gets_outcome_unknown_and_nothing_is_called(
    ending: str,
    temporal_client: Client,
    allowing_worker: Settings,
    seeded: Any,
    api: FakeHttpApiServer,
) -> None:
    timeout = {"approval_timeout_s": 1.0} if ending == "expired" else {}
    handle = await start_cut_off(temporal_client, allowing_worker, seeded, api, "ask", **timeout)
    if ending == "rejected":
        await wait_pending(handle)
        decision = ApprovalDecision(call_id="cut", approve=False, reason="it went through")
        await handle.execute_update(AgentRun.resolve_approval, decision)
    result = await handle.result()

    assert result.status == "completed" and result.answer == "done"
    assert api.requests == [] and result.tool_errors == 1
    events = await events_of(temporal_client, handle.id)
    resolved = next(e["data"] for e in events if e["type"] == "approval.resolved")
    assert (resolved["decision"], resolved["cause"]) == (ending, "outcome_unknown")
    done = [e["data"] for e in events if e["type"] == "tool.completed"]
    assert [(d["ok"], d["error_type"]) for d in done] == [(False, "outcome_unknown")]
    why = "a person rejected a retry: it went through" if ending == "rejected" else "nobody"
    assert "it was not repeated" in done[0]["error"] and why in done[0]["error"]
    body = tool_result(seeded, handle.id)
    assert body.get("is_error") and body["text"] == done[0]["error"]


async def test_report_the_default_asks_nobody(
    temporal_client: Client, allowing_worker: Settings, seeded: Any, api: FakeHttpApiServer
) -> None:
    handle = await start_cut_off(temporal_client, allowing_worker, seeded, api, "report")
    result = await handle.result()

    assert result.status == "completed" and api.requests == [] and result.tool_errors == 1
    events = await events_of(temporal_client, handle.id)
    assert not [e for e in events if e["type"].startswith("approval.")]
    done = [e["data"] for e in events if e["type"] == "tool.completed"]
    assert [(d["ok"], d["error_type"]) for d in done] == [(False, "outcome_unknown")]
    history = await handle.fetch_history()  # no marker of its own either: the old path exactly
    assert ASK_ON_UNKNOWN_OUTCOME not in patch_markers(history, implied=False)


async def test_a_500_asks_too_and_the_api_shows_and_approves_the_retry(
    temporal_client: Client, allowing_worker: Settings, seeded: Any, api: FakeHttpApiServer
) -> None:
    # No earlier attempt this time: the service answered 500, so it may have acted.
    api.queue("/things", Canned(status=500))
    tool = ToolSpec(
        name="create",
        kind="http",
        config={"method": "POST", "url": f"{api.base_url}/things", "body": {"a": 1}},
        idempotent=False,
        on_unknown_outcome="ask",
    )
    script = (ScriptTurn(tool_calls=(CALL,)), ScriptTurn(text="done"))
    spec = demo_spec(seeded, tools=(tool,), script=script)
    run_id = f"run-{uuid.uuid4().hex}"
    await start_run(
        temporal_client,
        task_queue=allowing_worker.temporal_task_queue,
        run_id=run_id,
        agent=spec,
        input="go",
    )
    handle = temporal_client.get_workflow_handle_for(AgentRun.run, run_id)
    await wait_pending(handle)
    async with (
        serving(allowing_worker) as url,
        httpx.AsyncClient(base_url=url, timeout=30, headers=AUTH) as http,
    ):
        view = (await http.get(f"/v1/runs/{run_id}")).json()
        assert view["status"] == "running" and len(view["pending"]) == 1
        assert view["pending"][0] | {"arguments": {}} == {
            "kind": "approval",
            "call_id": "cut",
            "tool": "create",
            "arguments": {},
            "question": "",
            "cause": "outcome_unknown",
        }
        r = await http.post(f"/v1/runs/{run_id}/approvals/cut", json={"decision": "approve"})
        assert r.status_code == 200 and r.json()["decision"] == "approved", r.text
    result = await handle.result()
    assert result.status == "completed" and result.tool_errors == 0
    assert len(api.requests_to("/things")) == 2  # the 500, and the approved retry
