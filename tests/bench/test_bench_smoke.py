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


async def run_small(peers: bool, throughput: bool = False) -> list[str]:
    """One run of 3 steps of each variant; with `throughput`, one round of 2 runs at once,
    started and awaited by each variant's driver process."""
    bench = overhead()
    variants = await bench.bench(
        1,
        peers=peers,
        step_counts=(3,),
        history_steps=(3,),
        peer_history_steps=(3,),
        throughput=throughput,
        throughput_rounds=1,
        throughput_runs=2,
        warmup=0,
    )
    bench.report(variants, 1)
    for variant in variants:
        # orch-big (20 tools, an 8 KB prompt) is there for its history only.
        measured = variant.name != "orch-big"
        assert len(variant.times.get(3, [])) == measured, variant.name
        assert variant.history[3] > 0, variant.name
        if throughput and measured:
            assert len(variant.rounds) == 1 and variant.runs_per_s > 0, variant.name
            assert variant.driver_cpu_ms_per_step > 0, variant.name
    return [variant.name for variant in variants]


@pytest.mark.timeout(90)
async def test_orch_and_the_floor_run_and_their_drivers_run_a_round() -> None:
    assert await run_small(peers=False, throughput=True) == ["floor", "orch", "orch-big"]


@pytest.mark.timeout(90)
async def test_the_peers_run() -> None:
    pytest.importorskip("agents")
    pytest.importorskip("pydantic_ai.durable_exec.temporal")
    pytest.importorskip("temporalio.openai_agents")
    names = await run_small(peers=True)
    assert names == ["floor", "openai-agents", "pydantic-ai", "orch", "orch-big"]


def test_web_figures_prints_the_bundle_sizes(tmp_path: Path) -> None:
    """bench/web_figures.py --bundle over a build made up here (its live figures run in
    tests/e2e/test_web_app.py, with the same helpers)."""
    import subprocess

    assets = tmp_path / "dist" / "assets"
    assets.mkdir(parents=True)
    (assets / "index-abc.js").write_text("console.log('x');" * 100)
    (assets / "index-abc.css").write_text("a{color:red}" * 100)
    (assets / "index-abc.js.map").write_text("{}")  # not part of the bundle
    from tests.support.web import bundle_report

    total, lines = bundle_report(tmp_path / "dist")
    assert len(lines) == 3 and "in 2 chunks" in lines[0] and 0 < total < 1000, lines
    done = subprocess.run(
        [sys.executable, str(BENCH / "web_figures.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "--bundle" in done.stdout, done.stderr


def test_scale_runs_small() -> None:
    """bench/scale.py with 20 runs: its API, worker and one-at-a-time client (a process of its
    own) all run, and every run completes."""
    import os
    import re
    import subprocess

    done = subprocess.run(
        [sys.executable, str(BENCH / "scale.py"), "--runs", "20", "--model-delay", "1"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(BENCH.parent)},
        cwd=BENCH.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    completed = re.search(r"completed: (\d+)/(\d+) \(0 failed\)", done.stdout)
    assert completed is not None and completed[1] == completed[2], done.stdout
    probes = re.search(r"\+(\d+) by the one-at-a-time client", done.stdout)
    assert probes is not None and int(probes[1]) >= 1, done.stdout
    assert int(completed[1]) == 20 + int(probes[1])
