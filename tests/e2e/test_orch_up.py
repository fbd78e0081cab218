"""`orch up` as a user runs it: everything up in one process, all of it down on Ctrl-C."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from temporal import devserver_pid
from temporal.devserver import dev_server_command, temporal_binary
from tests.support.temporal import EXAMPLE_CONFIG, free_port
from tests.support.up import keep_reading, port_open, start_up, up_env

pytestmark = pytest.mark.timeout(120)


def test_orch_up_serves_the_demo_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    grpc, ui, api = free_port(), free_port(), free_port()
    env = up_env(tmp_path, grpc, ui, api)
    began = time.monotonic()
    proc, output = start_up(tmp_path, env)  # a terminal's Ctrl-C goes to the whole group
    try:
        assert "Ready." in output, output
        assert time.monotonic() - began < 60
        assert f"http://localhost:{ui}" in output and f"http://localhost:{api}" in output

        # Auth is on: `orch up` made a local admin token, printed it and keeps it 0600.
        token_file = tmp_path / ".orch" / "admin-token"
        token = token_file.read_text().strip()
        assert f"Web app          http://localhost:{api}/ui/sign-in#token={token}" in output
        assert token_file.stat().st_mode & 0o777 == 0o600
        # ... and wrote where its API is, next to it: the SDK's and the CLI's default ORCH_URL.
        assert (tmp_path / ".orch" / "api-url").read_text() == f"http://localhost:{api}\n"
        printed = subprocess.run(
            [sys.executable, "-m", "orch.cli", "token", "local"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert (printed.returncode, printed.stdout.strip()) == (0, token)
        # From that directory, `orch run` finds the API and its token in .orch/ alone.
        client = {k: v for k, v in env.items() if not k.startswith(("ORCH_", "TEMPORAL_"))}
        ran = subprocess.run(
            [sys.executable, "-m", "orch.cli", "run", "demo", "What is 12*7?"],
            cwd=tmp_path,
            env={**client, "TEMPORAL_ADDRESS": "127.0.0.1:1"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert ran.stdout.startswith("run run-") and f"http://localhost:{ui}/" in ran.stdout

        base = f"http://127.0.0.1:{api}"
        demo = {"agent": "demo", "input": "What is 12*7?"}
        refused = httpx.post(f"{base}/v1/runs", json=demo)
        assert refused.status_code == 401, refused.text
        auth = {"Authorization": f"Bearer {token}"}
        started = httpx.post(f"{base}/v1/runs", json=demo, headers=auth)
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        assert started.json()["temporal_ui_url"].startswith(f"http://localhost:{ui}/")
        events_url = f"{base}/v1/runs/{run_id}/events"
        with httpx.stream("GET", events_url, timeout=30, headers=auth) as events:
            body = "".join(events.iter_text())
        assert "event: run.completed" in body and "84" in body
        assert httpx.get(f"http://127.0.0.1:{ui}/", timeout=10).status_code == 200
        # The dev server was started with the AgentName search attribute: the list filters on it.
        for _ in range(50):
            listed = subprocess.run(
                [str(temporal_binary()), "workflow", "list", "--address", f"127.0.0.1:{grpc}"]
                + ["--query", "AgentName = 'demo'", "--output", "json"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert listed.returncode == 0, listed.stderr
            if run_id in listed.stdout:
                break
            time.sleep(0.2)
        assert run_id in listed.stdout
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code == 0
    for port in (grpc, ui, api):
        assert not port_open(port), f"port {port} still open after Ctrl-C"


def test_orch_up_refuses_a_port_that_is_taken(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path}/o.db",
            "DEV_SERVER_PORT": str(taken),
            "DEV_SERVER_UI_PORT": str(free_port()),
            "API_PORT": str(free_port()),
        }
        result = subprocess.run(
            [sys.executable, "-m", "orch.cli", "up", "--seed", str(EXAMPLE_CONFIG)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"port {taken} for the Temporal dev server is in use" in result.stderr
    assert "Traceback" not in result.stderr


def running(pid: int, start_time: int) -> bool:
    """Whether the process `pid` that started at `start_time` is alive (not a zombie)."""
    stat = devserver_pid._stat(pid)
    return stat is not None and not stat.zombie and stat.start_time == start_time


@pytest.mark.skipif(not devserver_pid.can_check(), reason="needs /proc (Linux)")
def test_a_killed_orch_up_takes_its_dev_server_along_and_a_stale_pid_file_harms_no_one(
    tmp_path: Path,
) -> None:
    grpc, ui, api = free_port(), free_port(), free_port()
    env = up_env(tmp_path, grpc, ui, api)
    pid_file = tmp_path / "temporal.db.pid"
    procs: list[subprocess.Popen[str]] = []
    dev: devserver_pid.DevServerRecord | None = None
    try:
        first, output = start_up(tmp_path, env)
        procs.append(first)
        assert "Ready." in output, output
        dev = devserver_pid.read(pid_file)
        assert dev is not None and dev.owner_pid == first.pid
        assert running(dev.pid, dev.start_time)
        assert devserver_pid._cmdline(dev.pid) == dev.cmdline

        os.kill(first.pid, signal.SIGKILL)  # orch up alone, not its group
        first.wait(timeout=10)
        deadline = time.monotonic() + 20
        while running(dev.pid, dev.start_time) or port_open(grpc) or port_open(ui):
            assert time.monotonic() < deadline, "the dev server outlived a SIGKILLed orch up"
            time.sleep(0.1)

        # The pid file now names an unrelated process, as after a pid reuse: it is left alone.
        sleeper = subprocess.Popen(["sleep", "60"], text=True)
        procs.append(sleeper)
        other = devserver_pid.record_of(sleeper.pid, dev.cmdline)
        assert other is not None
        devserver_pid.write(pid_file, dataclasses.replace(other, owner_pid=first.pid))

        second, output = start_up(tmp_path, env)  # the same ports, the same db
        procs.append(second)
        assert "Ready." in output, output
        assert f"removed the stale {pid_file}: process {sleeper.pid} left alone" in output
        assert sleeper.poll() is None
        dev = devserver_pid.read(pid_file)
        assert dev is not None and dev.owner_pid == second.pid and dev.pid != sleeper.pid

        second.send_signal(signal.SIGINT)
        assert second.wait(timeout=60) == 0
        assert not pid_file.exists()
        assert not running(dev.pid, dev.start_time)
        for port in (grpc, ui, api):
            assert not port_open(port), f"port {port} still open after Ctrl-C"
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        if dev is not None and running(dev.pid, dev.start_time):  # a dev server orch up started
            os.kill(dev.pid, signal.SIGKILL)


@pytest.mark.skipif(not devserver_pid.can_check(), reason="needs /proc (Linux)")
def test_the_next_orch_up_stops_a_leftover_dev_server_of_its_own_and_starts(
    tmp_path: Path,
) -> None:
    grpc, ui, api = free_port(), free_port(), free_port()
    env = up_env(tmp_path, grpc, ui, api)
    db = Path(env["DEV_SERVER_DB"])
    cmd = dev_server_command(port=grpc, ui_port=ui, db_file=db)
    # What a killed `orch up` leaves where its dev server outlives it: the server, on its ports,
    # and the pid file naming it, written by an `orch up` that is gone.
    leftover = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    procs: list[subprocess.Popen[str]] = []
    try:
        deadline = time.monotonic() + 30
        while not port_open(grpc):
            assert leftover.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        record = devserver_pid.record_of(leftover.pid, cmd)
        assert record is not None
        gone = subprocess.Popen(["true"])
        gone.wait()
        devserver_pid.write(
            devserver_pid.pid_file_for(db), dataclasses.replace(record, owner_pid=gone.pid)
        )

        up, output = start_up(tmp_path, env)
        procs.append(up)
        assert (
            f"stopped the dev server (pid {leftover.pid}) that an earlier orch up left running"
            in output
        ), output
        assert "Ready." in output, output
        assert leftover.wait(timeout=5) is not None
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0
    finally:
        for proc in [leftover, *procs]:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def test_keep_reading_drains_what_a_pipe_cannot_hold() -> None:
    """The web app's stack prints more than a pipe holds (its access log): unread, the next log
    line blocks `orch up`'s event loop and the API stops answering mid-test."""
    lines = 5_000  # 100 chars each: 500 KB, eight pipes' worth
    printer = f"for i in range({lines}): print(f'{{i:099d}}', flush=True)"
    proc = subprocess.Popen([sys.executable, "-c", printer], stdout=subprocess.PIPE, text=True)
    read = keep_reading(proc)
    assert proc.wait(timeout=20) == 0
    deadline = time.monotonic() + 5
    while len(read) < lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(read) == lines and read[-1] == f"{lines - 1:099d}\n"
