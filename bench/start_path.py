"""What starting a run over the API costs on top of Temporal's own start.

Starts the embedded dev server, migrates and seeds a SQLite database with the example config,
makes a stored `run` token, and serves the real app under uvicorn in a child process (loopback).
Then, interleaved: `POST /v1/runs` of the `demo` agent with ORCH_ADMIN_TOKEN, the same with the
stored token, and a bare `client.start_workflow` of a trivial workflow (no search attribute, no
summary, no project code) on the same dev server. No worker runs: only the start is measured.
Prints p50/p90 of each and the differences of the p50s.

    python bench/start_path.py [--runs 200]
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
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from config_store.db import make_engine, make_session_factory
from config_store.migrate import upgrade
from config_store.tokens import create_token
from services.seed import load_config_file
from temporal.client import SEARCH_ATTRIBUTES
from temporal.devserver import dev_server_extra_args, temporal_binary

REPO = Path(__file__).resolve().parent.parent
QUEUE = f"bench-{uuid.uuid4().hex}"


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def wait_up(http: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited with {proc.returncode}")
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the API did not come up")


async def main(runs: int, port: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        factory = make_session_factory(make_engine(url))
        load_config_file(factory, REPO / "examples" / "config.yaml")
        with factory.begin() as session:
            stored = create_token(session, "bench", "run").token
        admin = secrets.token_hex(32)
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_extra_args=dev_server_extra_args(),
        )
        client: Client = env.client
        server_env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DATABASE_URL": url,
            "TEMPORAL_ADDRESS": client.service_client.config.target_host,
            "TEMPORAL_TASK_QUEUE": QUEUE,
            "ORCH_ADMIN_TOKEN": admin,
            "WORKSPACE_DIR": f"{tmp}/ws",
        }
        command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        proc = subprocess.Popen(command, env=server_env, cwd=tmp)
        times: dict[str, list[float]] = {"api admin": [], "api stored": [], "bare": []}
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                await wait_up(http, proc)

                def post(token: str) -> Callable[[], Awaitable[None]]:
                    headers = {"Authorization": f"Bearer {token}"}
                    body = {"agent": "demo", "input": "What is 12*7?"}

                    async def call() -> None:
                        answer = await http.post("/v1/runs", json=body, headers=headers)
                        assert answer.status_code == 202, answer.text

                    return call

                async def bare() -> None:
                    await client.start_workflow(
                        "Trivial", id=f"bare-{uuid.uuid4().hex}", task_queue=QUEUE
                    )

                calls = {"api admin": post(admin), "api stored": post(stored), "bare": bare}
                for _ in range(10):  # warm-up: connections, caches, the first imports
                    for call in calls.values():
                        await call()
                names = list(calls)
                cpu_before = cpu_s(proc.pid)
                for i in range(runs):
                    for name in names[i % 3 :] + names[: i % 3]:  # rotate who goes first
                        began = time.perf_counter()
                        await calls[name]()
                        times[name].append(time.perf_counter() - began)
                server_cpu = cpu_s(proc.pid) - cpu_before
        finally:
            proc.terminate()
            proc.wait(10)
            await env.shutdown()

    print(f"runs: {runs} of each, interleaved")
    for name, values in times.items():
        p50, p90 = pct(values, 0.5), pct(values, 0.9)
        print(f"{name:11} p50 {p50:6.1f} ms  p90 {p90:6.1f} ms")
    print(f"API process CPU per POST: {server_cpu / (2 * runs) * 1000:.2f} ms")
    bare50 = statistics.median(times["bare"]) * 1000
    for name in ("api admin", "api stored"):
        extra = statistics.median(times[name]) * 1000 - bare50
        print(f"{name} - bare, p50: {extra:+6.1f} ms  (target <= +10 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--port", type=int, default=18765)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.port))
    # The Temporal client's runtime threads can abort the interpreter's finalization
    # (PyGILState_Release) once everything is printed: leave without it.
    sys.stdout.flush()
    os._exit(0)
