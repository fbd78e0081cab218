"""The one-shot setup scripts of docker-compose.yml (`temporal-schema`, `temporal-setup`), run
under /bin/sh against fake Temporal CLIs, so their idempotency is tested without containers."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.deploy import script_of, service_of

FAKE_TEMPORAL = r"""#!/bin/sh
echo "$*" >> "$STATE_DIR/calls"
[ -f "$STATE_DIR/down" ] && { echo "connection refused" >&2; exit 1; }
case "$1 $2 $3" in
  "operator cluster health") echo "temporal.api.workflowservice.v1.WorkflowService SERVING" ;;
  "operator namespace describe") [ -f "$STATE_DIR/ns" ] ;;
  "operator namespace create")
    [ -f "$STATE_DIR/ns" ] && { echo "Namespace already exists" >&2; exit 1; }
    touch "$STATE_DIR/ns" ;;
  "operator search-attribute list")
    [ -f "$STATE_DIR/ns" ] || { echo "namespace not found" >&2; exit 1; }
    echo "Name Type"
    if [ -f "$STATE_DIR/sa" ]; then echo "AgentName Keyword"; fi ;;
  "operator search-attribute create")
    [ -f "$STATE_DIR/sa" ] && { echo "Search attribute AgentName already exists" >&2; exit 1; }
    touch "$STATE_DIR/sa" ;;
  *) echo "unexpected call: $*" >&2; exit 2 ;;
esac
"""

FAKE_SQL_TOOL = r"""#!/bin/sh
echo "$*" >> "$STATE_DIR/calls"
[ -f "$STATE_DIR/down" ] && { echo "connection refused" >&2; exit 1; }
[ "$1" = "--db" ] || { echo "expected --db first: $*" >&2; exit 2; }
db="$2"
case "$3" in
  create)
    [ -f "$STATE_DIR/db_$db" ] && { echo "database \"$db\" already exists" >&2; exit 1; }
    touch "$STATE_DIR/db_$db" ;;
  setup-schema|update-schema)
    [ -f "$STATE_DIR/db_$db" ] || { echo "database \"$db\" does not exist" >&2; exit 1; } ;;
  *) echo "unexpected call: $*" >&2; exit 2 ;;
esac
"""


def _fake_cli(tmp_path: Path, name: str, body: str) -> tuple[dict[str, str], Path]:
    sh = shutil.which("sh")
    if sh is None:
        pytest.skip("no POSIX sh to run the setup scripts with")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / name
    tool.write_text(body)
    tool.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    path = os.pathsep.join([str(bin_dir), os.environ.get("PATH", os.defpath)])
    return {"PATH": path, "STATE_DIR": str(state)}, state


def _run_script(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def _calls(state: Path) -> list[str]:
    calls = state / "calls"
    return calls.read_text().splitlines() if calls.exists() else []


def test_temporal_setup_registers_agent_name_idempotently(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    script = script_of(compose, "temporal-setup")
    env, state = _fake_cli(tmp_path, "temporal", FAKE_TEMPORAL)
    env.update(service_of(compose, "temporal-setup")["environment"])

    first = _run_script(script, env)
    assert first.returncode == 0, first.stderr
    calls = _calls(state)
    assert any(c.startswith("operator namespace create") for c in calls), calls
    created = [c for c in calls if c.startswith("operator search-attribute create")]
    assert len(created) == 1, calls
    assert "--name AgentName --type Keyword" in created[0]
    assert "--address temporal:7233" in created[0]

    (state / "calls").unlink()
    second = _run_script(script, env)
    assert second.returncode == 0, f"second run must tolerate existing state:\n{second.stderr}"
    assert not [c for c in _calls(state) if " create" in c], _calls(state)


def test_temporal_setup_fails_when_server_is_down(compose: dict[str, Any], tmp_path: Path) -> None:
    script = script_of(compose, "temporal-setup")
    assert "sleep 2" in script, "update this test: it shortens the retry pause"
    script = script.replace("sleep 2", "sleep 0")
    env, state = _fake_cli(tmp_path, "temporal", FAKE_TEMPORAL)
    env.update(service_of(compose, "temporal-setup")["environment"])
    (state / "down").touch()
    result = _run_script(script, env)
    assert result.returncode != 0, "temporal-setup must fail (not hang) when Temporal is down"


def test_temporal_schema_setup_is_idempotent(compose: dict[str, Any], tmp_path: Path) -> None:
    script = script_of(compose, "temporal-schema")
    env, state = _fake_cli(tmp_path, "temporal-sql-tool", FAKE_SQL_TOOL)

    for attempt in ("first", "second"):
        result = _run_script(script, env)
        assert result.returncode == 0, f"{attempt} run failed:\n{result.stderr}"
    calls = _calls(state)
    for db in ("temporal", "temporal_visibility"):
        assert any(c.startswith(f"--db {db} update-schema") for c in calls), calls

    (state / "down").touch()
    assert _run_script(script, env).returncode != 0, "schema setup must fail with no database"


def test_temporal_schema_runs_before_the_server(compose: dict[str, Any]) -> None:
    depends_on = service_of(compose, "temporal").get("depends_on") or {}
    assert depends_on.get("temporal-schema", {}).get("condition") == (
        "service_completed_successfully"
    )
