"""The compose model, resolved once per module by `docker-compose config` (no Docker engine)."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.support.deploy import COMPOSE_FILE, compose_binary, run_compose

COMPOSE_ADMIN_TOKEN = "compose-test-admin-token-0123456789abcdef"


@pytest.fixture(scope="module")
def compose_bin() -> str:
    return compose_binary()


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Only what compose needs: no host provider keys or DOCKER_* settings leak into the test."""
    home = tmp_path_factory.mktemp("compose-home")
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "DOCKER_CONFIG": str(home / ".docker"),
        "COMPOSE_PROJECT_NAME": "orch-deploy-test",
        "ORCH_ADMIN_TOKEN": COMPOSE_ADMIN_TOKEN,
    }


@pytest.fixture(scope="module")
def compose(compose_bin: str, clean_env: dict[str, str]) -> dict[str, Any]:
    """The compose model as `docker-compose config` resolves it (anchors, defaults, paths)."""
    result = run_compose(compose_bin, clean_env, COMPOSE_FILE, "config", "--format", "json")
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    model: dict[str, Any] = json.loads(result.stdout)
    return model
