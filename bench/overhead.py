"""What orch costs on the path users take, next to a bare Temporal workflow and two peers.

Every variant runs the same agent: N-1 steps where the model asks for the calculator, then an
answer (N model calls, N-1 tool calls), against one local fake model server (the tests' fake
OpenAI-wire server, in its own process: bench/fake_model.py), on one embedded dev server.

- floor: a bare temporalio workflow, no framework: an activity that posts the conversation to
  the model with httpx, a tool activity (bench/floor.py `BareAgentLoop`);
- openai-agents: the OpenAI Agents SDK through Temporal's plugin, model calls as the plugin's
  activities, the calculator a function tool run as an activity (bench/peer_openai_agents.py);
- pydantic-ai: Pydantic AI's durable agent (`TemporalDurability`), model requests and the tool
  as activities (bench/peer_pydantic_ai.py);
- orch: the real API in a subprocess (`orch api`), the run started with `POST /v1/runs` on an
  agent whose provider is an `openai_compatible` row pointing at the fake server, the real SDK
  streaming as in production, the worker in this process; the result awaited with the Temporal
  handle's `result()`.

The peers need the `bench` extra (`pip install -e '.[bench]'`); without it they are left out.
All workers live in this process, the API and the model server do not. Runs are interleaved
variant by variant. Prints ms/run (median, p90) at 3 and 12 steps with the ratio to the floor,
history bytes per run (the server's historySizeBytes) at 3, 12 and 200 steps, runs/s with 50
runs in flight, and this process's CPU time per step during those (the medians of five rounds,
the variants' rounds interleaved). The runs/s rounds are started and awaited by a client
process per variant (bench/driver.py), so that this process spends its CPU on the workers only,
as a worker does in production; the one-at-a-time runs are started from here.

    python bench/overhead.py [--runs 20] [--quick] [--no-peers]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for folder in (str(BENCH), str(REPO)):
    if folder not in sys.path:
        sys.path.insert(0, folder)

import httpx  # noqa: E402
from floor import BareAgentLoop, FloorModel, ModelCall, floor_tool  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from config_store.db import make_engine, make_session_factory  # noqa: E402
from config_store.migrate import upgrade  # noqa: E402
from config_store.transcript import TranscriptStore  # noqa: E402
from core.settings import Settings  # noqa: E402
from services.seed import load_config_file  # noqa: E402
from temporal.client import SEARCH_ATTRIBUTES  # noqa: E402
from temporal.devserver import dev_server_extra_args, temporal_binary  # noqa: E402
from temporal.worker import build_worker  # noqa: E402
from workflows.agent_run import AgentRun  # noqa: E402

AGENT = "bench"
KEY_ENV = "BENCH_MODEL_KEY"
CONCURRENT = 50
CONCURRENT_STEPS = 3
THROUGHPUT_ROUNDS = 5  # of each variant, interleaved; the figures are the medians
# A stuck run (e.g. a workflow task failing again and again) fails the benchmark, not hangs it.
RUN_TIMEOUT = timedelta(seconds=float(os.environ.get("BENCH_RUN_TIMEOUT_S", "300")))

CONFIG = """
providers:
  - name: fake
    kind: openai_compatible
    base_url: {base_url}
    api_key_env: {key_env}
    default_model: m
tools:
  - name: calculator
    kind: calculator
    description: Evaluate an arithmetic expression and return the result.
    parameters:
      type: object
      properties:
        expression: {{type: string}}
      required: [expression]
agents:
  - name: {agent}
    provider: fake
    model: m
    system_prompt: Use the calculator for arithmetic. Answer briefly.
    tools: [calculator]
    max_steps: 250
  - name: {big_agent}
    provider: fake
    model: m
    system_prompt: {big_prompt}
    tools: [calculator, {extra_tools}]
    max_steps: 250
"""
# The same agent with 20 tools and an 8 KB system prompt: its history must not grow with them
# (the spec is read by reference, not carried in each step's input).
BIG_AGENT = "bench-big"
EXTRA_TOOLS = [f"calculator_{n:02d}" for n in range(1, 20)]
BIG_PROMPT = " ".join(
    f"Rule {n}: use the calculator for arithmetic, answer briefly." for n in range(150)
)[:8192]


def config_text(base_url: str) -> str:
    """The benchmark's providers, tools and agents, as a config file."""
    extra = "".join(
        f"""  - name: {name}
    kind: calculator
    description: Evaluate an arithmetic expression and return the result ({name}).
    parameters:
      type: object
      properties:
        expression: {{type: string}}
      required: [expression]
"""
        for name in EXTRA_TOOLS
    )
    text = CONFIG.format(
        base_url=base_url,
        key_env=KEY_ENV,
        agent=AGENT,
        big_agent=BIG_AGENT,
        big_prompt=json.dumps(BIG_PROMPT),
        extra_tools=", ".join(EXTRA_TOOLS),
    )
    return text.replace("agents:\n", extra + "agents:\n", 1)


def peers_installed() -> bool:
    try:
        import agents  # noqa: F401
        import pydantic_ai.durable_exec.temporal  # noqa: F401
        import temporalio.openai_agents  # noqa: F401
    except ImportError:
        return False
    return True


class Driver:
    """A bench/driver.py process: the clients of one variant's throughput rounds, out of this
    process (where the workers are), the same for every variant."""

    def __init__(self, spec: dict[str, object]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(BENCH / "driver.py"), json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(BENCH)])},
        )

    async def _line(self) -> str:
        assert self._process.stdout is not None
        line = await asyncio.to_thread(self._process.stdout.readline)
        if not line:
            raise RuntimeError("the benchmark's driver process exited")
        return line.strip()

    async def ready(self) -> None:
        assert await self._line() == "ready"

    async def round(self, runs: int, steps: int) -> tuple[float, float]:
        """(wall seconds, the driver's CPU seconds) of `runs` runs started at once."""
        assert self._process.stdin is not None
        self._process.stdin.write(f"{runs} {steps}\n")
        self._process.stdin.flush()
        wall, cpu = (await self._line()).split()
        return float(wall), float(cpu)

    def stop(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(30)


@dataclass
class Variant:
    name: str
    client: Client
    start: Callable[[int], Awaitable[str]]  # steps -> workflow id, once the run is done
    # Starts and awaits the throughput rounds' runs from a process of its own.
    driver: Driver | None = None
    times: dict[int, list[float]] = field(default_factory=dict)
    history: dict[int, int] = field(default_factory=dict)
    # runs/s, this process's CPU ms a step, another process's (the API's), the driver's
    rounds: list[tuple[float, float, float | None, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    other_cpu: Callable[[], float] | None = None  # CPU seconds of another process it uses

    @property
    def runs_per_s(self) -> float:
        """The median over the throughput rounds (0 when none ran)."""
        return statistics.median(r[0] for r in self.rounds) if self.rounds else 0.0

    @property
    def cpu_ms_per_step(self) -> float:
        return statistics.median(r[1] for r in self.rounds) if self.rounds else 0.0

    @property
    def other_cpu_ms_per_step(self) -> float | None:
        other = [r[2] for r in self.rounds if r[2] is not None]
        return statistics.median(other) if other else None

    async def run(self, steps: int) -> str:
        began = time.perf_counter()
        workflow_id = await self.start(steps)
        self.times.setdefault(steps, []).append(time.perf_counter() - began)
        return workflow_id

    async def history_bytes(self, steps: int) -> None:
        try:
            workflow_id = await self.start(steps)
        except Exception as exc:  # a peer that cannot go that far: reported, not fatal
            cause = exc.__cause__ or exc
            self.errors.append(f"{steps} steps: {type(cause).__name__}: {cause}"[:300])
            return
        described = await self.client.get_workflow_handle(workflow_id).describe()
        self.history[steps] = described.raw_description.workflow_execution_info.history_size_bytes

    async def throughput(self, runs: int = CONCURRENT) -> None:
        """One round: `runs` runs started at once, by the driver's process."""
        assert self.driver is not None
        other = self.other_cpu() if self.other_cpu else 0.0
        cpu = time.process_time()
        wall, driver_cpu = await self.driver.round(runs, CONCURRENT_STEPS)
        cpu = time.process_time() - cpu
        steps = runs * CONCURRENT_STEPS
        other_ms = (self.other_cpu() - other) * 1000 / steps if self.other_cpu else None
        self.rounds.append((runs / wall, cpu * 1000 / steps, other_ms, driver_cpu * 1000 / steps))

    @property
    def driver_cpu_ms_per_step(self) -> float:
        return statistics.median(r[3] for r in self.rounds) if self.rounds else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_model_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(BENCH / "fake_model.py")], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


async def wait_healthy(http: httpx.AsyncClient, api: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if api.poll() is not None:
            raise RuntimeError("the API process exited")
        await asyncio.sleep(0.1)
    raise RuntimeError("the API did not answer /healthz")


async def bench(
    runs: int,
    *,
    peers: bool,
    step_counts: tuple[int, ...] = (3, 12),
    history_steps: tuple[int, ...] = (3, 12, 200),
    peer_history_steps: tuple[int, ...] = (3, 12, 200),
    throughput: bool = True,
    throughput_rounds: int = THROUGHPUT_ROUNDS,
    throughput_runs: int = CONCURRENT,
    warmup: int = 2,
) -> list[Variant]:
    """Run the benchmark, return its variants with their figures."""
    os.environ[KEY_ENV] = "k"
    os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")
    model_server, base_url = start_model_server()
    async with AsyncExitStack() as stack:
        stack.callback(model_server.wait, 10)
        stack.callback(model_server.terminate)
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        factory = make_session_factory(make_engine(url))
        config = Path(tmp) / "bench.yaml"
        config.write_text(config_text(base_url))
        load_config_file(factory, config)

        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_binary()),
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_extra_args=dev_server_extra_args(),
        )
        stack.push_async_callback(env.shutdown)
        target = env.client.service_client.config.target_host
        queue = f"bench-orch-{uuid.uuid4().hex}"
        token = secrets.token_hex(32)
        port = 18000 + os.getpid() % 1000
        api = subprocess.Popen(
            [sys.executable, "-m", "orch.cli", "api"],
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                "DATABASE_URL": url,
                "TEMPORAL_ADDRESS": target,
                "TEMPORAL_TASK_QUEUE": queue,
                "API_PORT": str(port),
                "ORCH_ADMIN_TOKEN": token,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(api.wait, 30)
        stack.callback(api.terminate)
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                timeout=60,
                limits=httpx.Limits(max_connections=CONCURRENT + 10),
                headers={"Authorization": f"Bearer {token}"},
            )
        )
        await wait_healthy(http, api)

        settings = Settings(database_url=url, workspace_dir=Path(tmp) / "ws")
        client = env.client
        await stack.enter_async_context(
            build_worker(client, settings, TranscriptStore(factory), task_queue=queue)
        )

        async def orch(steps: int, agent: str = AGENT) -> str:
            response = await http.post("/v1/runs", json={"agent": agent, "input": f"steps={steps}"})
            response.raise_for_status()
            run_id: str = response.json()["run_id"]
            handle = client.get_workflow_handle_for(AgentRun.run, run_id)
            result = await asyncio.wait_for(handle.result(), RUN_TIMEOUT.total_seconds())
            assert result.steps == steps and result.status == "completed", result
            return run_id

        floor_queue = f"bench-floor-{uuid.uuid4().hex}"
        floor_model = FloorModel()
        stack.push_async_callback(floor_model.http.aclose)
        await stack.enter_async_context(
            Worker(
                client,
                task_queue=floor_queue,
                workflows=[BareAgentLoop],
                activities=[floor_model.call, floor_tool],
            )
        )

        async def floor(steps: int) -> str:
            workflow_id = f"floor-{uuid.uuid4().hex}"
            done = await client.execute_workflow(
                BareAgentLoop.run,
                ModelCall(base_url, steps, 0),
                id=workflow_id,
                task_queue=floor_queue,
                execution_timeout=RUN_TIMEOUT,
            )
            assert done == steps, done
            return workflow_id

        floor_arg = {"base_url": base_url, "tool_results": 0}
        variants = [
            Variant(
                "floor",
                client,
                floor,
                driver=driven(stack, run_spec(target, BareAgentLoop, floor_queue, floor_arg)),
            )
        ]
        if peers:
            variants += await start_peers(stack, target, base_url)
        orch_driver = driven(
            stack,
            {"target": target, "api": f"http://127.0.0.1:{port}", "token": token, "agent": AGENT},
        )
        variants.append(
            Variant(
                "orch",
                client,
                orch,
                driver=orch_driver,
                other_cpu=lambda: cpu_seconds(api.pid),
            )
        )
        for variant in variants:
            assert variant.driver is not None
            await variant.driver.ready()

        for _ in range(warmup):
            for variant in variants:
                await variant.run(3)
        for variant in variants:
            variant.times.clear()
        for _ in range(runs):
            for steps in step_counts:
                for variant in variants:
                    await variant.run(steps)
        for steps in history_steps:
            for variant in variants:
                if variant.name in ("floor", "orch") or steps in peer_history_steps:
                    await variant.history_bytes(steps)
        big = Variant("orch-big", client, partial(orch, agent=BIG_AGENT))
        for steps in history_steps:
            await big.history_bytes(steps)
        for _ in range(throughput_rounds if throughput else 0):
            for variant in variants:  # interleaved: a drift of the machine meets every variant
                await api_idle()
                await variant.throughput(throughput_runs)
        variants.append(big)
        await http.aclose()
    return variants


def driven(stack: AsyncExitStack, spec: dict[str, object]) -> Driver:
    """A driver process for `spec` (bench/driver.py), stopped when `stack` closes."""
    driver = Driver(spec)
    stack.callback(driver.stop)
    return driver


def run_spec(target: str, workflow: type, task_queue: str, arg: object) -> dict[str, object]:
    """A driver's spec for a variant whose run is one `workflow` (its class) started with `arg`."""
    return {"target": target, "workflow": workflow.__name__, "task_queue": task_queue, "arg": arg}


async def api_idle() -> None:
    await asyncio.sleep(1)  # let the previous variant's stragglers settle


async def start_peers(stack: AsyncExitStack, target: str, base_url: str) -> list[Variant]:
    import pai_agent
    import peer_openai_agents as oa
    from peer_pydantic_ai import PydanticAIRun
    from pydantic_ai.durable_exec.temporal import AgentPlugin, PydanticAIPlugin

    oa_client = await Client.connect(target, plugins=[oa.plugin(base_url)])  # type: ignore[list-item]
    oa_queue = f"bench-oa-{uuid.uuid4().hex}"
    await stack.enter_async_context(
        Worker(
            oa_client,
            task_queue=oa_queue,
            workflows=[oa.OpenAIAgentsRun],
            activities=[oa.calculator],
        )
    )

    async def openai_agents(steps: int) -> str:
        workflow_id = f"oa-{uuid.uuid4().hex}"
        answer = await oa_client.execute_workflow(
            oa.OpenAIAgentsRun.run,
            f"steps={steps}",
            id=workflow_id,
            task_queue=oa_queue,
            execution_timeout=RUN_TIMEOUT,
        )
        assert answer == "42", answer
        return workflow_id

    agent = pai_agent.build_agent(base_url)
    pai_client = await Client.connect(target, plugins=[PydanticAIPlugin()])
    pai_queue = f"bench-pai-{uuid.uuid4().hex}"
    await stack.enter_async_context(
        Worker(
            pai_client,
            task_queue=pai_queue,
            workflows=[PydanticAIRun],
            plugins=[AgentPlugin(agent)],
        )
    )

    async def pydantic_ai(steps: int) -> str:
        workflow_id = f"pai-{uuid.uuid4().hex}"
        answer = await pai_client.execute_workflow(
            PydanticAIRun.run,
            f"steps={steps}",
            id=workflow_id,
            task_queue=pai_queue,
            execution_timeout=RUN_TIMEOUT,
        )
        assert answer == "42", answer
        return workflow_id

    prompt = "steps={steps}"
    return [
        Variant(
            "openai-agents",
            oa_client,
            openai_agents,
            driver=driven(stack, run_spec(target, oa.OpenAIAgentsRun, oa_queue, prompt)),
        ),
        Variant(
            "pydantic-ai",
            pai_client,
            pydantic_ai,
            driver=driven(stack, run_spec(target, PydanticAIRun, pai_queue, prompt)),
        ),
    ]


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.9 + 0.5) - 1)]


def report(variants: list[Variant], runs: int) -> None:
    floor = variants[0]
    step_counts = sorted(floor.times)
    history_steps = sorted(floor.history)
    print(f"{runs} interleaved runs of each variant and size; N steps: N model calls, N-1 tools")
    head = f"{'variant':<14}"
    for steps in step_counts:
        head += f" | {f'{steps} steps ms':>12} {'p90':>5} {'ratio':>5}"
    head += " |" + "".join(f" {f'hist B {steps}':>11}" for steps in history_steps)
    head += f" | {f'runs/s @{CONCURRENT}':>10} {'ratio':>5} {'CPU ms/step':>11}"
    print(head)
    for variant in variants:
        line = f"{variant.name:<14}"
        for steps in step_counts:
            times = variant.times.get(steps, [])
            if not times:
                line += f" | {'-':>12} {'-':>5} {'-':>5}"
                continue
            median = statistics.median(times) * 1000
            ratio = median / (statistics.median(floor.times[steps]) * 1000)
            line += f" | {median:12.0f} {p90(times) * 1000:5.0f} {ratio:5.2f}"
        line += " |" + "".join(f" {variant.history.get(steps, '-'):>11}" for steps in history_steps)
        if variant.runs_per_s:
            ratio = variant.runs_per_s / floor.runs_per_s if floor.runs_per_s else 0.0
            line += f" | {variant.runs_per_s:10.1f} {ratio:5.2f} {variant.cpu_ms_per_step:11.1f}"
        print(line)
    drivers = ", ".join(f"{v.name} {v.driver_cpu_ms_per_step:.1f}" for v in variants if v.rounds)
    print(f"the clients' own process (bench/driver.py), CPU ms per step: {drivers}")
    for variant in variants:
        if variant.other_cpu_ms_per_step is not None:
            print(
                f"{variant.name}: its API process used {variant.other_cpu_ms_per_step:.1f} CPU "
                "ms per step more during the runs/s figure (not in the CPU column)"
            )
        for error in variant.errors:
            print(f"{variant.name} failed at {error}")
    print(
        "ms/run: from the start request (orch: POST /v1/runs) to the result; ratio: median over "
        "the floor's; hist: historySizeBytes of one run; runs/s: "
        f"{CONCURRENT} runs of {CONCURRENT_STEPS} steps started at once, the median of "
        f"{THROUGHPUT_ROUNDS} interleaved rounds, each variant's runs started and awaited by a "
        "client process of its own (bench/driver.py); CPU ms/step: this process's CPU (all the "
        "workers; not the clients, the API or the model server) over those runs, per step "
        "(median)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--quick", action="store_true", help="3 runs, no 200-step histories for the peers"
    )
    parser.add_argument("--no-peers", action="store_true", help="only the floor and orch")
    args = parser.parse_args()
    peers = not args.no_peers and peers_installed()
    if not peers and not args.no_peers:
        print("the peers need the bench extra (pip install -e '.[bench]'): floor and orch only")
    runs = 3 if args.quick else args.runs
    peer_history = (3, 12) if args.quick else (3, 12, 200)
    variants = asyncio.run(bench(runs, peers=peers, peer_history_steps=peer_history))
    report(variants, runs)


if __name__ == "__main__":
    main()
