"""The `orch` command line as a user runs it: a subprocess with its settings in the environment."""

from __future__ import annotations

import os
import subprocess
import sys

from core.settings import Settings
from tests.support.auth import ADMIN_TOKEN


def orch_env(settings: Settings) -> dict[str, str]:
    """This process's environment plus the settings `orch` reads to reach the test's services."""
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_TASK_QUEUE": settings.temporal_task_queue,
        "WORKSPACE_DIR": str(settings.workspace_dir),
        # No log file in the checkout's .orch/ (a test that wants one sets its own).
        "LOG_FILE": "",
    }


def client_env(api_url: str) -> dict[str, str]:
    """This process's environment plus what the API-client commands (`orch run`, `orch runs`,
    ...) need: the API's URL and the tests' admin token."""
    return {**os.environ, "ORCH_URL": api_url, "ORCH_TOKEN": ADMIN_TOKEN}


def orch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `orch ARGS...` to completion (a minute at most) and capture what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "orch.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
