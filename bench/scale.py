"""Many runs in flight against a slow model: do they all complete, how much memory does the
worker hold, and how fast does the API still start runs meanwhile?

Everything on this machine: the embedded dev server, `orch worker` and `orch api` as processes
of their own (their memory and CPU are theirs alone), and the tests' fake OpenAI-wire model
server, which answers every call after MODEL_DELAY_S. The provider and the agent are created
through the API; the runs are started with POST /v1/runs by CLIENTS clients at once, and each
is awaited through Temporal. Meanwhile one more client starts a run every 100 ms, one at a
time, as a user would: its POST latency is the API's answer time under that load. Prints the
latencies (p50, p95 of all POSTs; p50 of that client's while at least half of the runs were in
flight), the peak number of runs in flight, the time until the last one completed, and the
worker's peak RSS and CPU time.

    PYTHONPATH=. python bench/scale.py [--runs 1000] [--model-delay 5] [--clients 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from config_store.migrate import upgrade
from temporal.client import SEARCH_ATTRIBUTES
from temporal.devserver import dev_server_extra_args, temporal_binary
from tests.fakes.provider_server import FakeProviderServer, FakeReply

RSS_TARGET_MB = 1024
POST_P50_TARGET_MS = 50.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"the API exited with {process.returncode}")
        try:
            if (await http.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the API did not become ready in 30 s")


class Tally:
    """Runs started and finished, and the POST latencies with the load each was sent under."""

    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.started = 0
        self.finished = 0
        self.failed = 0
        self.peak = 0
        self.posts: list[tuple[float, int]] = []  # (ms, runs in flight when sent)
        self.probes: list[tuple[float, int]] = []  # the one-at-a-time client's
        self.ramped = False

    @property
    def in_flight(self) -> int:
        return self.started - self.finished


async def start_one(
    http: httpx.AsyncClient, client: Client, tally: Tally, into: list[tuple[float, int]]
) -> asyncio.Task[None]:
    load = tally.in_flight
    began = time.perf_counter()
    response = await http.post("/v1/runs", json={"agent": "scale", "input": "hi"})
    into.append(((time.perf_counter() - began) * 1000, load))
    if response.status_code != 202:
        raise SystemExit(f"POST /v1/runs answered {response.status_code}: {response.text}")
    tally.started += 1
    tally.peak = max(tally.peak, tally.in_flight)
    return asyncio.create_task(finish(client, response.json()["run_id"], tally))


async def start_runs(http: httpx.AsyncClient, client: Client, tally: Tally, count: int) -> None:
    waits = [await start_one(http, client, tally, tally.posts) for _ in range(count)]
    await asyncio.gather(*waits)


async def probe(http: httpx.AsyncClient, client: Client, tally: Tally) -> None:
    """One run every 100 ms, one POST at a time, until the ramp's runs are all started and
    fewer than half are in flight."""
    waits = []
    while not tally.ramped or tally.in_flight >= tally.runs // 2:
        waits.append(await start_one(http, client, tally, tally.probes))
        await asyncio.sleep(0.1)
    await asyncio.gather(*waits)


async def ramp(http: httpx.AsyncClient, client: Client, tally: Tally, clients: int) -> None:
    runs = tally.runs
    shares = [runs // clients + (1 if i < runs % clients else 0) for i in range(clients)]
    started = [asyncio.create_task(start_runs(http, client, tally, n)) for n in shares if n]
    while tally.started < runs:
        await asyncio.sleep(0.05)
    tally.ramped = True
    await asyncio.gather(*started)


async def finish(client: Client, run_id: str, tally: Tally) -> None:
    try:
        result = await client.get_workflow_handle(run_id).result()
        if result["status"] != "completed":
            tally.failed += 1
    except Exception:
        tally.failed += 1
    tally.finished += 1


async def main(runs: int, model_delay: float, clients: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        model = FakeProviderServer()
        model.start()
        model.reply_with(lambda _body, _wire: FakeReply(text="done", delay=model_delay))
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_extra_args=dev_server_extra_args(),
        )
        token = secrets.token_hex(32)
        port = 19000 + os.getpid() % 1000
        common = {
            **os.environ,
            "DATABASE_URL": url,
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_TASK_QUEUE": f"scale-{uuid.uuid4().hex}",
            "WORKSPACE_DIR": f"{tmp}/ws",
            "BENCH_MODEL_KEY": "k",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "orch.cli", "worker"],
            env={**common, "WORKER_MAX_ACTIVITIES": "1000", "WORKER_MAX_CACHED_RUNS": "2000"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        api = subprocess.Popen(
            [sys.executable, "-m", "orch.cli", "api"],
            env={**common, "API_PORT": str(port), "ORCH_ADMIN_TOKEN": token},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            limits = httpx.Limits(max_connections=clients + 5)
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                limits=limits,
                timeout=60,
            ) as http:
                await wait_ready(http, api)
                provider = {
                    "name": "model",
                    "kind": "openai_compatible",
                    "base_url": model.openai_base_url,
                    "api_key_env": "BENCH_MODEL_KEY",
                    "default_model": "m",
                }
                for path, body in (
                    ("/v1/providers", provider),
                    ("/v1/agents", {"name": "scale", "provider": "model", "max_steps": 2}),
                ):
                    created = await http.post(path, json=body)
                    if created.status_code != 201:
                        raise SystemExit(f"POST {path}: {created.status_code} {created.text}")
                cpu_before = cpu_seconds(worker.pid)
                tally = Tally(runs)
                began = time.monotonic()
                await asyncio.gather(
                    ramp(http, env.client, tally, clients), probe(http, env.client, tally)
                )
                took = time.monotonic() - began
                cpu = cpu_seconds(worker.pid) - cpu_before
                rss = peak_rss_mb(worker.pid)
        finally:
            for process in (api, worker):
                process.terminate()
            for process in (api, worker):
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
            await env.shutdown()
            model.stop()

    posts = sorted(ms for ms, _ in tally.posts + tally.probes)
    loaded = [ms for ms, load in tally.probes if load >= runs // 2]
    p95 = posts[int(0.95 * (len(posts) - 1))]
    print(
        f"{runs} runs (+{len(tally.probes)} by the one-at-a-time client), model answering in "
        f"{model_delay:g} s, {clients} clients starting them"
    )
    print(
        f"  completed: {tally.finished - tally.failed}/{tally.started} ({tally.failed} failed) "
        f"in {took:.1f} s; peak in flight {tally.peak}"
    )
    print(f"  POST /v1/runs, all: p50 {statistics.median(posts):.1f} ms, p95 {p95:.1f} ms")
    print(
        f"  POST /v1/runs, one at a time with >= {runs // 2} runs in flight: "
        + (
            f"p50 {statistics.median(loaded):.1f} ms of {len(loaded)} "
            f"(target <= {POST_P50_TARGET_MS:g})"
            if loaded
            else "none (never half of the runs in flight at once)"
        )
    )
    print(f"  worker: peak RSS {rss:.0f} MB (target <= {RSS_TARGET_MB}), CPU {cpu:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--model-delay", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.model_delay, args.clients))
