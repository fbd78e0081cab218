"""The clients of one variant's throughput rounds (bench/overhead.py), in a process of their own.

In production the callers of a run are somewhere else than the worker. Started from the
benchmark's own process, 50 runs at once cost that process their clients' CPU: for orch an
`httpx` POST each, in Python, for the others a Temporal client call that its Rust core mostly
does. So for the runs/s figure every variant's runs are started and awaited from here, the same
way for all, and the benchmark's process holds only the workers.

    python bench/driver.py '<spec as JSON>'

The spec: `target` (the dev server), then either `workflow`, `task_queue` and `arg` (a run is
`execute_workflow(workflow, arg)`, where a string `arg` has `{steps}` filled in and a mapping
gets `steps` set), or `api`, `token` and `agent` (a run is `POST /v1/runs`, then the workflow's
result). Prints `ready` once connected; then, for each line `N STEPS` on stdin, starts N runs
of STEPS steps at once, waits for all of them and prints `<wall seconds> <CPU seconds>`.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client

RUN_TIMEOUT = timedelta(seconds=300)


async def main(spec: dict[str, Any]) -> None:
    client = await Client.connect(spec["target"])
    run = temporal_run(client, spec) if "workflow" in spec else orch_run(client, spec)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        runs, steps = (int(word) for word in line.split())
        cpu, began = time.process_time(), time.perf_counter()
        await asyncio.gather(*(run(steps) for _ in range(runs)))
        print(f"{time.perf_counter() - began} {time.process_time() - cpu}", flush=True)


def temporal_run(client: Client, spec: dict[str, Any]) -> Callable[[int], Awaitable[None]]:
    async def run(steps: int) -> None:
        arg = spec["arg"]
        await client.execute_workflow(
            spec["workflow"],
            arg.format(steps=steps) if isinstance(arg, str) else {**arg, "steps": steps},
            id=f"drive-{uuid.uuid4().hex}",
            task_queue=spec["task_queue"],
            execution_timeout=RUN_TIMEOUT,
        )

    return run


def orch_run(client: Client, spec: dict[str, Any]) -> Callable[[int], Awaitable[None]]:
    # A connection of its own for each run in flight, as separate users have, reused across
    # rounds: one httpx client with 50 connections costs CPU that grows with them (its pool
    # looks at every connection for every queued request; ~16 CPU ms a POST in a burst of 50,
    # measured), which on this machine the API and the worker would pay for.
    idle: list[httpx.AsyncClient] = []
    tls = ssl.create_default_context()  # built once: each client would build its own (~10 ms)

    def connection() -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=spec["api"],
            verify=tls,
            timeout=60,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"Authorization": f"Bearer {spec['token']}"},
        )

    async def run(steps: int) -> None:
        http = idle.pop() if idle else connection()
        try:
            response = await http.post(
                "/v1/runs", json={"agent": spec["agent"], "input": f"steps={steps}"}
            )
        finally:
            idle.append(http)
        response.raise_for_status()
        handle = client.get_workflow_handle(response.json()["run_id"])
        result = await asyncio.wait_for(handle.result(), RUN_TIMEOUT.total_seconds())
        assert result["steps"] == steps and result["status"] == "completed", result

    return run


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
