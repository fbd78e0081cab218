"""The run event stream seen by clients nobody here wrote: a real browser's `EventSource` in
headless Chromium (Debian's `chromium`, driven by Playwright), and `curl -N`.

The browser test drops the connection mid-run by stopping the API server, then starts a new one on
the same port. The browser reconnects by itself and sends `Last-Event-ID`. Its events must match
the run's stream exactly: nothing lost, nothing repeated.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from core.settings import Settings
from tests.support.auth import AUTH
from tests.support.runs import demo_spec, guarded, start_agent
from tests.support.sse import read_events
from tests.support.temporal import free_port, serving
from tests.support.web import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.timeout(90)

ON_CI = os.environ.get("CI") == "true"

# Every event type a run can publish (docs/events.md), plus the API's `stream.unavailable` and
# `stream.error`. The server sets `event:`, so an EventSource only sees them through a listener
# per name; `message` would catch one sent without `event:` (there should be none).
EVENT_TYPES = [
    "run.started",
    "step.started",
    "llm.delta",
    "llm.retrying",
    "llm.failover",
    "llm.completed",
    "output.invalid",
    "tool.started",
    "approval.requested",
    "approval.resolved",
    "input.requested",
    "input.received",
    "tool.completed",
    "run.completed",
    "run.stopped",
    "run.failed",
    "run.cancelled",
    "stream.unavailable",
    "stream.error",
    "message",
]
TERMINAL = ["run.completed", "run.stopped", "run.failed", "run.cancelled", "stream.error"]

# Runs in the page: opens one EventSource per entry of `streams` ({name: url}) and records, in
# window.streams[name], every message as {id, type, data} and how often it opened / failed. On the
# terminal event the page closes the EventSource: docs/api.md ("`EventSource` clients") says a
# client must, since an EventSource reconnects whenever a stream closes (and the server closes it
# after that event).
FOLLOW_JS = """
([streams, types, terminal]) => {
  window.streams = {};
  for (const [name, url] of Object.entries(streams)) {
    const s = {events: [], errors: 0, opens: 0, source: new EventSource(url)};
    window.streams[name] = s;
    s.source.addEventListener('open', () => { s.opens += 1; });
    s.source.addEventListener('error', () => { s.errors += 1; });
    for (const type of types) {
      s.source.addEventListener(type, (e) => {
        s.events.push({id: e.lastEventId, type: e.type, data: e.data});
        if (terminal.includes(e.type)) s.source.close();
      });
    }
  }
}
"""
STATE_JS = """
(name) => {
  const s = window.streams[name];
  return {events: s.events, errors: s.errors, opens: s.opens, state: s.source.readyState};
}
"""


def missing_tools(*, browser: bool) -> str | None:
    """Why this machine cannot run the test, or None."""
    lacking = []
    if browser and not CHROMIUM.exists():
        lacking.append(f"{CHROMIUM} (Debian's chromium package)")
    if browser and importlib.util.find_spec("playwright") is None:
        lacking.append("the playwright package (pip install -e '.[dev]')")
    if shutil.which("curl") is None:
        lacking.append("curl")
    return "missing: " + " and ".join(lacking) if lacking else None


def needs(*, browser: bool) -> pytest.MarkDecorator:
    """Skip (before any fixture starts) when a tool is missing, except on CI (CI=true): there
    the test runs and `require` fails it."""
    reason = missing_tools(browser=browser)
    return pytest.mark.skipif(reason is not None and not ON_CI, reason=str(reason))


def require(*, browser: bool) -> None:
    reason = missing_tools(browser=browser)
    if reason is not None:
        pytest.fail(f"CI=true, so this cannot be skipped; {reason}", pytrace=False)


@asynccontextmanager
async def api_server(settings: Settings, port: int) -> AsyncIterator[None]:
    """The real app under uvicorn on `port`, as the `api_url` fixture builds it, but stoppable:
    leaving the block shuts it down. An SSE stream never finishes by itself, so after the 1 s
    grace uvicorn cancels it and closes the connection (and logs "Exception in ASGI
    application ... CancelledError: ... timeout graceful shutdown exceeded": that is the drop)."""
    async with serving(settings, port, timeout_graceful_shutdown=1):
        yield


async def until(what: str, check: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


async def start_guarded_run(client: Client, settings: Settings, seeded: Any) -> str:
    """The demo agent with its calculator behind an approval: it waits for a person."""
    return await start_agent(client, settings, guarded(demo_spec(seeded)), "What is 12*7?")


async def stream_path(base_url: str, run_id: str) -> str:
    """The run's events path with a fresh stream token in its query."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=AUTH) as http:
        made = await http.post(f"/v1/runs/{run_id}/stream-token")
    assert made.status_code == 201, made.text
    url = httpx.URL(made.json()["events_url"])
    assert url.params["token"] == made.json()["token"]
    return f"{url.path}?{url.query.decode()}"


async def approve(base_url: str, run_id: str, call_id: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=AUTH) as http:
        answer = await http.post(
            f"/v1/runs/{run_id}/approvals/{call_id}", json={"decision": "approve"}
        )
    assert answer.status_code == 200, answer.text


@needs(browser=True)
async def test_browser_eventsource_resumes_without_gaps_or_duplicates(
    temporal_client: Client, orch_settings: Settings, worker: None, seeded: Any
) -> None:
    """Two EventSources follow one run: the default stream, and `?include=tokens`, whose ids
    cover every offset of the run's stream. The server is stopped while the run waits for an
    approval, and restarted on the same port; the approval and the rest of the run happen while
    the browser is away. The browser reconnects with Last-Event-ID and must end with exactly the
    run's events, in order, once each."""
    require(browser=True)
    from playwright.async_api import async_playwright

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    run_id = await start_guarded_run(temporal_client, orch_settings, seeded)
    began = time.monotonic()
    timings: dict[str, float] = {}

    def mark(what: str) -> None:
        timings[what] = round(time.monotonic() - began, 2)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()

            async def state(name: str) -> dict[str, Any]:
                return dict(await page.evaluate(STATE_JS, name))

            async def everywhere(event_type: str) -> list[dict[str, str]] | None:
                """The event as each stream received it, once all of them have."""
                found = []
                for name in streams:
                    got = [e for e in (await state(name))["events"] if e["type"] == event_type]
                    if not got:
                        return None
                    found.append(got[0])
                return found

            async with api_server(orch_settings, port):
                # An EventSource cannot send a header: each stream opens with a stream token
                # of this run in its URL (relative: the page shares the API's origin).
                plain, tokens = [await stream_path(base_url, run_id) for _ in range(2)]
                streams = {"plain": plain, "tokens": f"{tokens}&include=tokens"}
                await page.goto(f"{base_url}/healthz")
                await page.evaluate(FOLLOW_JS, [streams, EVENT_TYPES, TERMINAL])
                asked = await until(
                    "approval.requested in the browser", lambda: everywhere("approval.requested")
                )
                mark("approval.requested in the browser")
            # Leaving the block stopped the server: the open streams were cut mid-run.
            mark("server stopped")

            async def all_noticed() -> bool:
                return all([(await state(name))["errors"] >= 1 for name in streams])

            await until("an error event (the drop) on every EventSource", all_noticed, 5)
            mark("drop seen in the browser")
            await asyncio.sleep(1)

            async with api_server(orch_settings, port):
                mark("server restarted")
                call_id = json.loads(asked[0]["data"])["data"]["call_id"]
                await approve(base_url, run_id, call_id)
                mark("approved")
                await until(
                    "run.completed in the browser", lambda: everywhere("run.completed"), timeout=15
                )
                mark("run.completed in the browser")
                seen = {name: await state(name) for name in streams}
                async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=AUTH) as http:
                    # The reference: the whole stream, read in one go now that the run is over.
                    full = await read_events(http, streams["tokens"])
        finally:
            await browser.close()

    print(f"timings (s after the run started): {timings}")
    reference = {
        "plain": [(e.id, e.event) for e in full if e.event != "llm.delta"],
        "tokens": [(e.id, e.event) for e in full],
    }
    all_ids = [int(e.id) for e in full if e.id is not None]
    assert all_ids == list(range(len(full))), "the reference stream itself has a gap"
    for name, got in seen.items():
        print(f"{name}: opens={got['opens']} errors={got['errors']}")
        received = [(e["id"], e["type"]) for e in got["events"]]
        assert got["opens"] >= 2, f"{name}: the browser never reconnected"
        assert got["state"] == 2, f"{name}: not CLOSED after the terminal event"
        ids = [int(i) for i, _ in received]
        assert len(ids) == len(set(ids)), f"{name}: an event came twice: {received}"
        assert received == reference[name], f"{name}: lost or out of order"
        last = got["events"][-1]
        assert last["type"] == "run.completed"
        assert "84" in json.loads(last["data"])["data"]["answer"]
    # With tokens, the browser saw every offset of the stream: exactly 0..N. Without, exactly
    # the offsets that are not token deltas (those are opt-in), still in order, none repeated.
    tokens_ids = [int(e["id"]) for e in seen["tokens"]["events"]]
    assert tokens_ids == list(range(len(full)))
    delta_ids = {int(e.id) for e in full if e.event == "llm.delta" and e.id is not None}
    plain_ids = [int(e["id"]) for e in seen["plain"]["events"]]
    assert sorted(delta_ids | set(plain_ids)) == list(range(len(full)))
    assert not delta_ids & set(plain_ids)


@asynccontextmanager
async def curl_stream(url: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`curl -sN url`, run without blocking the event loop the API server runs on."""
    proc = await asyncio.create_subprocess_exec(
        "curl",
        "-sN",
        "-H",
        f"Authorization: {AUTH['Authorization']}",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def next_message(proc: asyncio.subprocess.Process) -> dict[str, str] | None:
    """The next SSE message curl prints ({field: value}), or None at the end of its output."""
    assert proc.stdout is not None
    fields: dict[str, str] = {}
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        if not line:
            return fields or None
        line = line.rstrip("\r\n")
        if line == "":
            if "data" in fields:
                return fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


@needs(browser=False)
async def test_curl_follows_a_run_live_and_replays_a_finished_one(
    api_url: str, temporal_client: Client, orch_settings: Settings, seeded: Any
) -> None:
    """`curl -N` prints events as they happen (the approval request arrives while the run is
    still waiting), then exits 0 once the run ends; on a finished run it replays all and exits."""
    require(browser=False)
    run_id = await start_guarded_run(temporal_client, orch_settings, seeded)
    url = f"{api_url}/v1/runs/{run_id}/events"

    messages = []
    async with curl_stream(url) as live:
        while (message := await next_message(live)) is not None:
            messages.append(message)
            if message["event"] == "approval.requested":
                assert live.returncode is None  # still streaming: the run waits for a person
                await approve(api_url, run_id, json.loads(message["data"])["data"]["call_id"])
        assert await asyncio.wait_for(live.wait(), 10) == 0

    async with curl_stream(url) as replay:
        stdout, stderr = await asyncio.wait_for(replay.communicate(), 20)
        assert replay.returncode == 0, stderr
    async with httpx.AsyncClient(timeout=30, headers=AUTH) as http:
        reference = [e.id for e in await read_events(http, url)]
    printed = [
        line.removeprefix("id:").strip()
        for line in stdout.decode().splitlines()
        if line.startswith("id:")
    ]
    assert [m["id"] for m in messages] == reference
    assert printed == reference
    assert messages[-1]["event"] == "run.completed" and "84" in messages[-1]["data"]
