"""Drill: the model provider goes down while every run is inside a model call, and stays down for
a while (`ORCH_DRILL_PROVIDER_OUTAGE_S`, default 30 s): first connection refused (the server is
stopped, which also cuts the calls in flight), then 503 to every request. Temporal retries the
model calls; once the provider is back every run completes, and each run's usage is that of its
answered calls, counted once.

The provider is the fake one (OpenAI wire, through the real SDK), on loopback.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest
from temporalio.client import Client

from config_store.transcript import TranscriptStore
from core.settings import Settings
from tests.fakes.provider_server import FakeProviderServer, FakeReply, FakeToolCall, Wire
from tests.support.runs import demo_spec, events_of, start_agent
from workflows.agent_run import AgentRun
from workflows.types import ProviderSpec

pytestmark = [pytest.mark.usefixtures("worker"), pytest.mark.timeout(180)]

OUTAGE_S = float(os.environ.get("ORCH_DRILL_PROVIDER_OUTAGE_S", "30"))
RUNS = 4
CALLS = 3  # model calls a run: two calculator steps, then the answer
KEY_ENV = "ORCH_TEST_OUTAGE_KEY"
IN_TOKENS, OUT_TOKENS = 10, 5  # of every answered call


def by_conversation(body: Any, wire: Wire) -> FakeReply:
    """A calculator call until two tool results are in, then the answer. The first call of a
    run is slow, so that every run is inside it when the provider goes down."""
    tool_results = sum(1 for m in body["messages"] if m.get("role") == "tool")
    if tool_results < CALLS - 1:
        return FakeReply(
            tool_calls=(FakeToolCall("calculator", {"expression": "6*7"}),),
            input_tokens=IN_TOKENS,
            output_tokens=OUT_TOKENS,
            delay=2.0 if tool_results == 0 else 0.0,
        )
    return FakeReply(text="done", input_tokens=IN_TOKENS, output_tokens=OUT_TOKENS)


async def test_runs_complete_after_the_provider_was_down_and_count_usage_once(
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    fake_provider: FakeProviderServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-outage-drill")
    provider = ProviderSpec(
        name="flaky", kind="openai", base_url=fake_provider.openai_base_url, api_key_env=KEY_ENV
    )
    spec = demo_spec(seeded, provider=provider, model="m", max_steps=CALLS)
    fake_provider.reply_with(by_conversation)
    run_ids = [await start_agent(temporal_client, orch_settings, spec, "go") for _ in range(RUNS)]
    while len(fake_provider.requests) < RUNS:  # every run is inside its first model call
        await asyncio.sleep(0.05)

    down = time.monotonic()
    fake_provider.stop()  # connection refused; the calls in flight are cut off
    await asyncio.sleep(OUTAGE_S / 2)
    fake_provider.start()
    fake_provider.fail_all(503)
    before_503 = len(fake_provider.requests)
    await asyncio.sleep(down + OUTAGE_S - time.monotonic())
    fake_provider.fail_all(None)
    back = time.monotonic()
    failed_503 = len(fake_provider.requests) - before_503

    results = await asyncio.gather(
        *(temporal_client.get_workflow_handle_for(AgentRun.run, r).result() for r in run_ids)
    )
    recovered = time.monotonic() - back
    assert [r.answer for r in results] == ["done"] * RUNS

    since_back = len(fake_provider.requests) - before_503 - failed_503
    duplicates = 0
    store = TranscriptStore(seeded)
    for run_id, result in zip(run_ids, results, strict=True):
        assert result.steps == CALLS and result.tool_calls == CALLS - 1
        # Usage: the answered calls only (a call cut off or refused never reached the run).
        assert result.usage.input_tokens == CALLS * IN_TOKENS, result.usage
        assert result.usage.output_tokens == CALLS * OUT_TOKENS, result.usage
        events = await events_of(temporal_client, run_id)
        completed = [e for e in events if e["type"] == "llm.completed"]
        duplicates += len(completed) - CALLS
        assert sum(e["data"]["usage"]["total_tokens"] for e in completed) == (
            result.usage.total_tokens
        )
        assert len(store.read(run_id)) == 1 + 2 * (CALLS - 1) + 1
    print(
        f"\nprovider drill: {RUNS} runs, provider down {OUTAGE_S:.0f} s "
        f"({OUTAGE_S / 2:.0f} s refused, then {failed_503} requests answered 503), "
        f"{len(fake_provider.requests)} requests in all; every run completed "
        f"{recovered:.1f} s after it was back ({since_back} calls since); "
        f"usage {CALLS * (IN_TOKENS + OUT_TOKENS)} tokens a run, counted once; "
        f"{duplicates} duplicate model calls"
    )
    assert duplicates == 0
