"""Many runs in flight against a slow model: do they all complete, how much memory does the
worker hold, and how fast does the API still start runs meanwhile?

Everything on this machine: the embedded dev server, `orch worker` and `orch api` as processes
of their own (their memory and CPU are theirs alone), and the tests' fake OpenAI-wire model
server, which answers every call after MODEL_DELAY_S. The provider and the agent are created
through the API; the runs are started with POST /v1/runs by CLIENTS clients at once (each with
a connection of its own), and each is awaited through Temporal. Meanwhile one more client, a
process of its own (`scale.py --probe`), starts a run every 100 ms, one at a time, as a user
would: its POST latency is the API's answer time under that load, not the wait of a client
sharing an event loop with the ten others, the 1,000 awaited results and the model server.
Prints the latencies (p50, p95 of all POSTs; p50 of that client's while at least half of the
runs were in flight), the peak number of runs in flight, the time until the last one
completed, and the worker's peak RSS and CPU time.

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
from dataclasses import dataclass
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


async def wait_ready(http: httpx.AsyncClient, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"the API exited with {process.returncode}:\n{said}")
        try:
            if (await http.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the API did not become ready in 30 s")


@dataclass(frozen=True)
class Api:
    url: str
    token: str

    def http(self, connections: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            limits=httpx.Limits(max_connections=connections),
            timeout=60,
        )


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


def started(client: Client, tally: Tally, run_id: str) -> asyncio.Task[None]:
    tally.started += 1
    tally.peak = max(tally.peak, tally.in_flight)
    return asyncio.create_task(finish(client, run_id, tally))


async def post_run(http: httpx.AsyncClient) -> tuple[float, str]:
    """POST /v1/runs once: (ms it took, the run id)."""
    began = time.perf_counter()
    response = await http.post("/v1/runs", json={"agent": "scale", "input": "hi"})
    took = (time.perf_counter() - began) * 1000
    if response.status_code != 202:
        raise SystemExit(f"POST /v1/runs answered {response.status_code}: {response.text}")
    return took, response.json()["run_id"]


async def start_runs(api: Api, client: Client, tally: Tally, count: int) -> None:
    waits = []
    async with api.http(connections=1) as http:  # a connection of its own, as a user has
        for _ in range(count):
            load = tally.in_flight
            took, run_id = await post_run(http)
            tally.posts.append((took, load))
            waits.append(started(client, tally, run_id))
    await asyncio.gather(*waits)


async def probe(api: Api, client: Client, tally: Tally) -> None:
    """One run every 100 ms, one POST at a time from a process of its own (`probe_process`),
    until the ramp's runs are all started and fewer than half are in flight."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--probe",
        api.url,
        api.token,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    waits = []
    try:
        while not tally.ramped or tally.in_flight >= tally.runs // 2:
            load = tally.in_flight
            process.stdin.write(b"go\n")
            await process.stdin.drain()
            line = (await process.stdout.readline()).decode().split()
            if len(line) != 2:
                raise SystemExit(f"the one-at-a-time client stopped: {line}")
            tally.probes.append((float(line[0]), load))
            waits.append(started(client, tally, line[1]))
            await asyncio.sleep(0.1)
    finally:
        process.stdin.close()
        await process.wait()
    await asyncio.gather(*waits)


async def probe_process(url: str, token: str) -> None:
    """The one-at-a-time client: for each line on stdin, one POST; prints `<ms> <run id>`."""
    loop = asyncio.get_running_loop()
    async with Api(url, token).http(connections=1) as http:
        while await loop.run_in_executor(None, sys.stdin.readline):
            took, run_id = await post_run(http)
            print(f"{took:.3f} {run_id}", flush=True)


async def ramp(api: Api, client: Client, tally: Tally, clients: int) -> None:
    runs = tally.runs
    shares = [runs // clients + (1 if i < runs % clients else 0) for i in range(clients)]
    started = [asyncio.create_task(start_runs(api, client, tally, n)) for n in shares if n]
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
        api_log = Path(tmp) / "api.log"  # what it says, shown if it exits before it is ready
        with api_log.open("wb") as api_err:
            api = subprocess.Popen(
                [sys.executable, "-m", "orch.cli", "api"],
                env={**common, "API_PORT": str(port), "ORCH_ADMIN_TOKEN": token},
                stdout=subprocess.DEVNULL,
                stderr=api_err,
            )
        api_at = Api(f"http://127.0.0.1:{port}", token)
        try:
            async with api_at.http(connections=1) as http:
                await wait_ready(http, api, api_log)
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
                    ramp(api_at, env.client, tally, clients), probe(api_at, env.client, tally)
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
    if sys.argv[1:2] == ["--probe"]:
        asyncio.run(probe_process(*sys.argv[2:4]))
        raise SystemExit(0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--model-delay", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.model_delay, args.clients))
