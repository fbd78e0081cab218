"""`orch worker` and `orch api` as real subprocesses: what they write to LOG_FILE and stderr.

Each process is started by the test in a session of its own and stopped by its own pid."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from core.settings import Settings
from orch.serve import _api_server
from tests.fakes.provider_server import FakeProviderServer
from tests.support.auth import ADMIN_TOKEN
from tests.support.cli import orch_env
from tests.support.logs import captured_logs
from tests.support.provider import fake_openai
from tests.support.runs import demo_spec, start_agent
from tests.support.temporal import free_port
from tests.support.workers import wait_until
from workflows.agent_run import AgentRun

pytestmark = pytest.mark.timeout(90)

KEY_ENV = "ORCH_TEST_PROCESS_LOGS_KEY"


class Process:
    """`orch ARGS` in a subprocess of its own session; stderr collected in a file."""

    def __init__(self, args: list[str], env: dict[str, str], tmp_path: Path) -> None:
        self.stderr_path = tmp_path / f"{args[0]}.stderr"
        with self.stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "orch.cli", *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

    def stop(self) -> int:
        """SIGTERM (a clean stop), then its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=40)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()


def records(path: Path) -> list[dict[str, Any]]:
    """A JSON-lines log file, each line parsed (a line that is not one JSON object fails)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Process]]:
    processes: list[Process] = []
    yield processes
    for process in processes:
        process.kill()


def test_orch_api_writes_json_lines_with_uvicorns_access_lines(
    orch_settings: Settings, seeded: Any, tmp_path: Path, started: list[Process]
) -> None:
    port = free_port()
    log_file = tmp_path / "logs" / "api.log"
    env = {
        **orch_env(orch_settings),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "ORCH_ADMIN_TOKEN": ADMIN_TOKEN,
        "LOG_FILE": str(log_file),
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "auto",  # stderr is a file here: JSON
    }
    api = Process(["api"], env, tmp_path)
    started.append(api)
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert api.proc.poll() is None, api.stderr
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(answers, 30, "orch api to answer /healthz")
    httpx.get(f"{base}/healthz?token=very-secret-stream-token", timeout=5)
    assert api.stop() == 0

    written = records(log_file)
    access = [r for r in written if r["logger"] == "uvicorn.access"]
    assert access and all(r["level"] == "INFO" for r in access)
    assert any('"GET /healthz HTTP/1.1" 200' in r["message"] for r in access)
    # The stream-token filter still applies to access lines that now propagate.
    assert any("token=[redacted]" in r["message"] for r in access)
    assert "very-secret-stream-token" not in log_file.read_text()
    assert any(r["message"] == "Application startup complete." for r in written)
    # The console got the same records as JSON lines.
    console = [json.loads(line) for line in api.stderr.splitlines()]
    assert [r["message"] for r in console] == [r["message"] for r in written]


async def test_orch_worker_logs_a_provider_retry_as_one_line(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    tmp_path: Path,
    started: list[Process],
) -> None:
    """What `make up` shows for a provider that answers 503 once: one text line on the console,
    and in LOG_FILE one JSON WARNING; no traceback anywhere at INFO."""
    log_file = tmp_path / "logs" / "worker.log"
    env = {
        **orch_env(orch_settings),
        KEY_ENV: "k",
        "LOG_FILE": str(log_file),
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "text",
    }
    worker = Process(["worker"], env, tmp_path)
    started.append(worker)
    await asyncio.to_thread(
        wait_until,
        lambda: any(r["message"].startswith("worker polling") for r in records(log_file)),
        30,
        "orch worker to poll",
    )
    fake_provider.queue_fault(503, wire="openai")
    fake_provider.queue_text("fine")
    spec = demo_spec(seeded, provider=fake_openai(fake_provider, KEY_ENV), model="m")
    run_id = await start_agent(temporal_client, orch_settings, spec, "hi")
    handle = temporal_client.get_workflow_handle_for(AgentRun.run, run_id)
    assert (await asyncio.wait_for(handle.result(), timeout=40)).answer == "fine"
    assert await asyncio.to_thread(worker.stop) == 0

    written = records(log_file)
    problems = [r for r in written if r["level"] not in ("DEBUG", "INFO")]
    assert [(r["logger"], r["message"], r["run_id"], r["step"]) for r in problems] == [
        (
            "orch.activity",
            "provider fake-openai (openai) answered 503 on attempt 1: retrying in 1.0 s",
            run_id,
            1,
        )
    ]
    assert not [r for r in written if "exc" in r]
    assert written[-1]["message"] == "worker stopped"
    console = worker.stderr
    assert "Traceback" not in console
    line = re.compile(
        r"^\d\d:\d\d:\d\d WARNING orch\.activity provider fake-openai \(openai\) answered 503 "
        rf"on attempt 1: retrying in 1\.0 s \[run_id={run_id} agent=demo step=1 attempt=1\]$",
        re.M,
    )
    assert len(line.findall(console)) == 1, console


def test_uvicorn_keeps_no_logging_setup_of_its_own(orch_settings: Settings) -> None:
    """The API's uvicorn (orch/serve.py) logs through core/logs.py's handlers at LOG_LEVEL: at
    WARNING its access lines are gone, its warnings are there, in JSON."""
    quiet = orch_settings.model_copy(update={"log_level": "WARNING", "log_file": None})
    names = ("uvicorn", "uvicorn.error", "uvicorn.access")
    # As in a fresh `orch api` process: other tests' servers (tests/support/temporal.py) give
    # uvicorn's loggers its default handlers; put those aside meanwhile.
    loggers = [logging.getLogger(name) for name in names]
    kept = [(lg.handlers[:], lg.propagate, lg.level) for lg in loggers]
    for lg in loggers:
        lg.handlers, lg.propagate, lg.level = [], True, logging.NOTSET
    try:
        with captured_logs(quiet, to_file=False) as logs:
            _api_server(quiet)  # uvicorn.Config applies its logging settings when built
            for lg in loggers:
                assert not lg.handlers and lg.propagate and lg.level == logging.NOTSET
            access = logging.getLogger("uvicorn.access")
            access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/healthz", "1.1", 200)
            logging.getLogger("uvicorn.error").warning("a warning of uvicorn's")
    finally:
        for lg, (handlers, propagate, level) in zip(loggers, kept, strict=True):
            lg.handlers, lg.propagate, lg.level = handlers, propagate, level
    [record] = logs.console_records()
    assert (record["logger"], record["message"]) == ("uvicorn.error", "a warning of uvicorn's")
