"""`orch up` as the e2e tests run it: a subprocess in a session of its own, on free ports and a
temporary directory's databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.temporal import EXAMPLE_CONFIG


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def up_env(tmp_path: Path, grpc: int, ui: int, api: int) -> dict[str, str]:
    """This process's environment plus `orch up`'s settings: ports, databases under `tmp_path`."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/orchestrator.db",
        "DEV_SERVER_PORT": str(grpc),
        "DEV_SERVER_UI_PORT": str(ui),
        "DEV_SERVER_DB": str(tmp_path / "temporal.db"),
        "API_PORT": str(api),
        "WORKSPACE_DIR": str(tmp_path / "workspace"),
        "TEMPORAL_TASK_QUEUE": "orch-up-test",
    }


def start_up(
    tmp_path: Path, env: dict[str, str], seed: Path = EXAMPLE_CONFIG
) -> tuple[subprocess.Popen[str], str]:
    """`orch up` in a session of its own (as a terminal's foreground job is a group of its own),
    once it printed `Ready.` or ended; and what it printed until then."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "orch.cli", "up", "--seed", str(seed)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Ready."):
            break
    return proc, "".join(lines)


def keep_reading(proc: subprocess.Popen[str]) -> list[str]:
    """What `proc` prints from now on, read into the returned list by a thread of its own.

    A pipe nobody reads holds 64 KB; then the process blocks on its next write. For `orch up`
    that write is a log line on the event loop, so the API stops answering altogether: the
    access log fills the pipe in about 400 requests (the web app's tests make more)."""
    assert proc.stdout is not None
    stream = proc.stdout
    lines: list[str] = []

    def read() -> None:
        for line in stream:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return lines
