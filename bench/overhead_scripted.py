"""What the agent loop alone costs on top of Temporal: a scripted model, so no HTTP and no SDK.

Runs a scripted agent (3 tool steps, then an answer: 4 model calls and 3 tool calls) many times on
the embedded dev server, and, interleaved with it in the same run, a bare workflow making the same
activity hops with trivial activities and no project code: the floor. Prints the median time per
agent step of each and their ratio.

    python bench/overhead_scripted.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from floor import BareLoop, bare_model, bare_tool  # noqa: E402  (bench/ is the script's folder)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config_store.agents import snapshot_agent
from config_store.db import make_engine, make_session_factory
from config_store.migrate import upgrade
from config_store.transcript import TranscriptStore
from core.settings import Settings
from services.seed import load_config_file
from temporal.client import SEARCH_ATTRIBUTES
from temporal.devserver import dev_server_extra_args, temporal_binary
from temporal.runs import start_run
from temporal.worker import build_worker
from workflows.agent_run import AgentRun
from workflows.types import ScriptTurn, ToolCall

REPO = Path(__file__).resolve().parent.parent
TOOL_STEPS = 3
STEPS = TOOL_STEPS + 1


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        factory = make_session_factory(make_engine(url))
        load_config_file(factory, REPO / "examples" / "config.yaml")
        with factory() as session:
            demo = snapshot_agent(session, "demo")
        calc = ToolCall(id="c", name="calculator", arguments={"expression": "12*7"})
        spec = replace(
            demo, script=(ScriptTurn(tool_calls=(calc,)),) * TOOL_STEPS + (ScriptTurn(text="84"),)
        )
        settings = Settings(database_url=url, workspace_dir=Path(tmp) / "ws")
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_extra_args=dev_server_extra_args(),
        )
        client = env.client
        queue = f"bench-{uuid.uuid4().hex}"
        bare_queue = f"bare-{uuid.uuid4().hex}"
        agent_times: list[float] = []
        bare_times: list[float] = []
        try:
            agent_worker = build_worker(
                client, settings, TranscriptStore(factory), task_queue=queue
            )
            bare_worker = Worker(
                client,
                task_queue=bare_queue,
                workflows=[BareLoop],
                activities=[bare_model, bare_tool],
            )
            async with agent_worker, bare_worker:

                async def agent_run() -> float:
                    run_id = f"bench-{uuid.uuid4().hex}"
                    began = time.perf_counter()
                    await start_run(client, task_queue=queue, run_id=run_id, agent=spec, input="go")
                    result = await client.get_workflow_handle_for(AgentRun.run, run_id).result()
                    assert result.steps == STEPS, result
                    return time.perf_counter() - began

                async def bare_run() -> float:
                    began = time.perf_counter()
                    await client.execute_workflow(
                        BareLoop.run, STEPS, id=f"bare-{uuid.uuid4().hex}", task_queue=bare_queue
                    )
                    return time.perf_counter() - began

                for _ in range(3):  # warm-up
                    await agent_run()
                    await bare_run()
                for _ in range(runs):
                    agent_times.append(await agent_run())
                    bare_times.append(await bare_run())
        finally:
            await env.shutdown()

    agent_step = statistics.median(agent_times) / STEPS * 1000
    bare_step = statistics.median(bare_times) / STEPS * 1000
    print(f"runs: {runs} of each, {STEPS} steps a run ({TOOL_STEPS} with a tool call)")
    print(f"agent step, median:  {agent_step:6.1f} ms")
    print(f"floor step, median:  {bare_step:6.1f} ms  (bare workflow, same activity hops)")
    print(f"ratio: {agent_step / bare_step:.2f}  (target <= 1.5)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
