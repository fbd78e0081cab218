"""What pooling the provider SDK clients saves per model step.

Runs the `llm_step` activity (in an `ActivityEnvironment`, on a SQLite transcript store) against
the tests' fake provider over loopback HTTP, alternating two ways of getting the provider:
- per step: a new SDK client for every step, closed after it (what the worker did before);
- pooled: the worker's `ProviderClients` pool (one client, kept open, built in a thread).
Prints, for each wire, the median time of a step and how long the event loop was held up per
step (the longest gap a 1 ms ticker saw: what every other run on the worker waits).

    python bench/llm_clients.py [--steps 100]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial

from temporalio.testing import ActivityEnvironment

from activities.llm.activity import LlmActivities
from activities.llm.clients import ProviderClients
from activities.llm.registry import build_provider
from config_store.db import make_engine, make_session_factory
from config_store.migrate import upgrade
from config_store.transcript import TranscriptStore
from tests.fakes.provider_server import FakeProviderServer
from workflows.kinds import ProviderKind
from workflows.types import AgentSpec, LlmStepInput, ProviderSpec, TranscriptMessage

KEY_ENV = "BENCH_KEY"
ENV = {KEY_ENV: "sk-bench"}


async def timed(step: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """(wall time of `step`, longest event-loop stall seen meanwhile), in ms."""
    stall = 0.0
    done = False

    async def tick() -> None:
        nonlocal stall
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stall = max(stall, now - last - 0.001)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.005)  # the ticker is running
    began = time.perf_counter()
    await step()
    wall = time.perf_counter() - began
    done = True
    await ticker
    return wall * 1000, stall * 1000


async def main(steps: int) -> None:
    server = FakeProviderServer()
    server.start()
    pool = ProviderClients()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        store = TranscriptStore(make_session_factory(make_engine(url)))
        ways = {
            "per step": LlmActivities(store, env=ENV, provider_factory=build_provider),
            "pooled": LlmActivities(store, env=ENV, clients=pool),
        }
        env = ActivityEnvironment()
        kinds: tuple[ProviderKind, ...] = ("openai", "anthropic")
        for kind in kinds:
            base = server.openai_base_url if kind == "openai" else server.anthropic_base_url
            agent = AgentSpec(
                name="bench",
                version=1,
                provider=ProviderSpec(name=kind, kind=kind, base_url=base, api_key_env=KEY_ENV),
                model="m",
            )
            walls: dict[str, list[float]] = {way: [] for way in ways}
            stalls: dict[str, list[float]] = {way: [] for way in ways}
            peers: dict[str, set[object]] = {way: set() for way in ways}
            for n in range(steps + 5):  # the first 5 of each are warm-up
                for way, llm in ways.items():
                    step = LlmStepInput(
                        run_id=f"{kind}-{way}-{n}",
                        seq=1,
                        step=1,
                        agent=agent,
                        prelude=(TranscriptMessage(role="user", text="hi"),),
                    )
                    wall, stall = await timed(partial(env.run, llm.llm_step, step))
                    peers[way].add(server.requests[-1].peer)  # one request a step
                    if n >= 5:
                        walls[way].append(wall)
                        stalls[way].append(stall)
            for way in ways:
                print(
                    f"{kind:9} {way:8}: step median {statistics.median(walls[way]):5.1f} ms, "
                    f"loop stall median {statistics.median(stalls[way]):5.1f} ms "
                    f"(max {max(stalls[way]):5.1f}), {len(peers[way])} connections"
                )
        print(f"{steps} steps of each way and wire, after 5 of warm-up")
    await pool.close()
    server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100)
    asyncio.run(main(parser.parse_args().steps))
