"""`orch worker` as a subprocess of its own session, for the drills that stop it (SIGTERM,
SIGKILL) while tool calls are in flight. Only the process it started is ever signalled."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from core.settings import Settings
from tests.support.cli import orch_env


class WorkerProcess:
    """`orch worker` in a subprocess of its own session; its output is collected as it comes."""

    def __init__(self, settings: Settings, grace_s: float) -> None:
        env = {
            **orch_env(settings),
            "OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
            "WORKER_SHUTDOWN_GRACE_S": str(grace_s),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orch.cli", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout_s: float) -> int:
        code = self.proc.wait(timeout=timeout_s)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
