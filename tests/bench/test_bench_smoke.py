"""bench/overhead.py, run small: one run of 3 steps of each variant, so the benchmark cannot rot
unnoticed (a broken variant fails its assertion on the steps taken). The peers only with the
`bench` extra installed."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def overhead() -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import overhead as module

    return module


async def run_small(peers: bool) -> list[str]:
    bench = overhead()
    variants = await bench.bench(
        1,
        peers=peers,
        step_counts=(3,),
        history_steps=(3,),
        peer_history_steps=(3,),
        throughput=False,
        warmup=0,
    )
    bench.report(variants, 1)
    for variant in variants:
        assert len(variant.times[3]) == 1, variant.name
        assert variant.history[3] > 0, variant.name
    return [variant.name for variant in variants]


@pytest.mark.timeout(60)
async def test_orch_and_the_floor_run() -> None:
    assert await run_small(peers=False) == ["floor", "orch"]


@pytest.mark.timeout(90)
async def test_the_peers_run() -> None:
    pytest.importorskip("agents")
    pytest.importorskip("pydantic_ai.durable_exec.temporal")
    pytest.importorskip("temporalio.openai_agents")
    assert await run_small(peers=True) == ["floor", "openai-agents", "pydantic-ai", "orch"]
