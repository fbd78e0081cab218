"""Static checks of the Cloud Run manifests (deploy/cloudrun/): what they run, the settings they
set (names the code reads, secrets from Secret Manager), probes on routes the API has, the
worker's drain inside Cloud Run's stop grace, and Cloud SQL's socket where DATABASE_URL looks.

No Google Cloud project is reached: the manifests are read as `gcloud run ... replace` would get
them, with the placeholders filled in as docs/deploy.md fills them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.engine import make_url

from api.app import create_app
from api.auth import check_auth_settings
from api.guards import BrowserPolicy
from core.settings import Settings
from tests.support.deploy import ROOT, orch_args, orch_invocations

CLOUDRUN = ROOT / "deploy" / "cloudrun"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
MANIFESTS = ("api.yaml", "worker.yaml", "migrate-job.yaml")

# What docs/deploy.md exports before `envsubst`: one value each, as an operator would set them.
PLACEHOLDERS = {
    "PROJECT_ID": "my-project",
    "PROJECT_NUMBER": "123456789012",
    "REGION": "europe-west1",
    "SQL_INSTANCE": "orch-db",
    "IMAGE_TAG": "v1",
    "TEMPORAL_ADDRESS": "europe-west1.gcp.api.temporal.io:7233",
    "TEMPORAL_NAMESPACE": "orch.a1b2c",
    "API_ALLOWED_HOSTS": "orch.example.com",
}
PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")

# Cloud Run gives a stopping instance 10 s between SIGTERM and SIGKILL; a service cannot have
# more (docs/deploy.md#graceful-stop).
CLOUD_RUN_STOP_GRACE_S = 10.0
CLOUD_RUN_MAX_REQUEST_TIMEOUT_S = 3600
# Cloud Run sets these itself and refuses them in a manifest.
RESERVED_ENV = {"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"}
# Read by something other than Settings: libpq (the database password, kept out of
# DATABASE_URL) and the model providers' keys, named by their api_key_env.
EXTERNAL_ENV = {"PGPASSWORD", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"}
SECRET_ENV = {"PGPASSWORD", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"} | {
    name.upper() for name, field in Settings.model_fields.items() if field.repr is False
}


def _text(name: str, *, mtls: bool = False) -> str:
    text = (CLOUDRUN / name).read_text()
    if mtls:  # what the comments at the top of the file tell an operator to do
        text = text.replace("#mtls ", "")
    return PLACEHOLDER.sub(lambda m: PLACEHOLDERS[m.group(1)], text)


def _load(name: str, *, mtls: bool = False) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load(_text(name, mtls=mtls))
    if mtls:
        for container in _pod(manifest)["containers"]:
            container["env"] = [e for e in container["env"] if e["name"] != "TEMPORAL_API_KEY"]
    return manifest


def _revision(manifest: dict[str, Any]) -> dict[str, Any]:
    """The revision template of a Service, the execution template of a Job."""
    template: dict[str, Any] = manifest["spec"]["template"]
    return template


def _pod(manifest: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = _revision(manifest)["spec"]
    return spec["template"]["spec"] if manifest["kind"] == "Job" else spec


def _container(manifest: dict[str, Any]) -> dict[str, Any]:
    [container] = _pod(manifest)["containers"]
    return container


@dataclass(frozen=True)
class Env:
    values: dict[str, str]  # literal values
    secrets: dict[str, str]  # name -> Secret Manager secret


def _env(manifest: dict[str, Any]) -> Env:
    values: dict[str, str] = {}
    secrets: dict[str, str] = {}
    names = [entry["name"] for entry in _container(manifest).get("env", [])]
    assert len(names) == len(set(names)), f"an env name is set twice: {names}"
    for entry in _container(manifest).get("env", []):
        if "valueFrom" in entry:
            assert "value" not in entry, entry
            ref = entry["valueFrom"]["secretKeyRef"]
            assert ref["name"] and str(ref["key"]), entry
            secrets[entry["name"]] = ref["name"]
        else:
            assert isinstance(entry["value"], str), f"quote {entry['name']}'s value: {entry}"
            values[entry["name"]] = entry["value"]
    return Env(values, secrets)


def _settings(env: Env, **secrets: str) -> Settings:
    """The settings a process gets from this env (secret values made up), validated."""
    known = {name.lower() for name in Settings.model_fields}
    fields = {name.lower(): value for name, value in env.values.items() if name.lower() in known}
    fields.update(secrets)
    return Settings(**fields)


def _command(manifest: dict[str, Any]) -> list[str]:
    container = _container(manifest)
    return [*container.get("command", []), *container.get("args", [])]


# --------------------------------------------------------------------------- every manifest


def test_placeholders_are_the_ones_the_walkthrough_fills_in() -> None:
    found = {m for name in MANIFESTS for m in PLACEHOLDER.findall((CLOUDRUN / name).read_text())}
    assert found == set(PLACEHOLDERS), found ^ set(PLACEHOLDERS)
    envsubst = re.search(r"envsubst '([^']+)'", DEPLOY_DOC.read_text())
    assert envsubst, "docs/deploy.md no longer shows its envsubst command"
    assert set(re.findall(r"\$(\w+)", envsubst.group(1))) == set(PLACEHOLDERS)
    for name in MANIFESTS:
        assert "$" not in _text(name, mtls=True), f"{name}: a $ envsubst would also replace"


@pytest.mark.parametrize(
    ("name", "api_version", "kind", "resource"),
    [
        ("api.yaml", "serving.knative.dev/v1", "Service", "orch-api"),
        ("worker.yaml", "serving.knative.dev/v1", "Service", "orch-worker"),
        ("migrate-job.yaml", "run.googleapis.com/v1", "Job", "orch-migrate"),
    ],
)
def test_resource_headers(name: str, api_version: str, kind: str, resource: str) -> None:
    manifest = _load(name)
    assert (manifest["apiVersion"], manifest["kind"]) == (api_version, kind)
    assert manifest["metadata"]["name"] == resource
    location = manifest["metadata"]["labels"]["cloud.googleapis.com/location"]
    assert location == PLACEHOLDERS["REGION"]
    assert _pod(manifest)["serviceAccountName"].endswith(
        f"@{PLACEHOLDERS['PROJECT_ID']}.iam.gserviceaccount.com"
    )


def test_one_image_everywhere_from_artifact_registry() -> None:
    images = {_container(_load(name))["image"] for name in MANIFESTS}
    assert len(images) == 1, images
    [image] = images
    region, project = PLACEHOLDERS["REGION"], PLACEHOLDERS["PROJECT_ID"]
    assert image == f"{region}-docker.pkg.dev/{project}/orch/orch:{PLACEHOLDERS['IMAGE_TAG']}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("api.yaml", [["api"]]),
        ("worker.yaml", [["worker"]]),
        ("migrate-job.yaml", [["db", "upgrade"], ["seed", "--if-empty", "examples/config.yaml"]]),
    ],
)
def test_commands_are_orch_commands(name: str, expected: list[list[str]]) -> None:
    invocations = orch_invocations(_command(_load(name)))
    assert [words[1:] for words in invocations] == expected
    for words in invocations:
        orch_args(words)  # the CLI's own parser accepts it
    if name == "migrate-job.yaml":
        seed = orch_args(invocations[1])
        assert seed.if_empty, "the job runs before every deploy: seed an empty database only"
        assert (ROOT / seed.file).is_file()  # in the image's WORKDIR, copied from here
        assert _command(_load(name))[:2] == ["sh", "-c"] and "&&" in _command(_load(name))[2]


@pytest.mark.parametrize("mtls", [False, True], ids=["api-key", "mtls"])
@pytest.mark.parametrize("name", MANIFESTS)
def test_env_names_are_read_by_the_code(name: str, mtls: bool) -> None:
    env = _env(_load(name, mtls=mtls))
    settings_names = {field.upper() for field in Settings.model_fields}
    for variable in [*env.values, *env.secrets]:
        assert variable not in RESERVED_ENV, f"{name}: Cloud Run sets {variable} itself"
        assert variable in settings_names or variable in EXTERNAL_ENV, (
            f"{name}: nothing reads {variable}"
        )
    _settings(env)  # the values have the types and ranges the settings accept


def test_provider_keys_are_names_the_docs_give_api_key_env() -> None:
    """The provider keys set here are the variable names the configuration docs use for
    api_key_env; any other name an operator's providers use is added the same way."""
    docs = (ROOT / "docs" / "configuration.md").read_text()
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        assert key in docs, key
    assert "OPENAI_API_KEY" in (ROOT / "examples" / "config.yaml").read_text()


@pytest.mark.parametrize("mtls", [False, True], ids=["api-key", "mtls"])
@pytest.mark.parametrize("name", MANIFESTS)
def test_secrets_come_from_secret_manager(name: str, mtls: bool) -> None:
    env = _env(_load(name, mtls=mtls))
    for variable in env.values:
        assert variable not in SECRET_ENV, f"{name}: {variable} is a literal, not a secret"
    url = make_url(env.values["DATABASE_URL"])
    assert url.password is None, f"{name}: the password is in DATABASE_URL"
    assert env.secrets.get("PGPASSWORD") == "orch-db-password", name


@pytest.mark.parametrize("name", MANIFESTS)
def test_cloud_sql_socket_is_where_database_url_looks(name: str) -> None:
    manifest = _load(name)
    annotations = _revision(manifest)["metadata"]["annotations"]
    instance = annotations["run.googleapis.com/cloudsql-instances"]
    project, region, sql = (PLACEHOLDERS[k] for k in ("PROJECT_ID", "REGION", "SQL_INSTANCE"))
    assert instance == f"{project}:{region}:{sql}"
    url = make_url(_env(manifest).values["DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg" and url.host is None, url
    # What psycopg gets: libpq's host is the folder Cloud Run puts the instance's socket in.
    _, kwargs = PGDialect_psycopg().create_connect_args(url)
    conninfo = conninfo_to_dict(make_conninfo(**kwargs))
    assert conninfo["host"] == f"/cloudsql/{instance}", conninfo
    assert conninfo["dbname"] == "orch" and conninfo["user"] == "orch", conninfo
    assert "password" not in conninfo


# --------------------------------------------------------------------------- the API


def _get_routes() -> set[str]:
    paths = create_app(Settings()).openapi()["paths"]
    return {path for path, operations in paths.items() if "get" in operations}


def test_api_listens_where_cloud_run_sends() -> None:
    manifest = _load("api.yaml")
    container = _container(manifest)
    [port] = container["ports"]
    env = _env(manifest)
    assert env.values["API_HOST"] == "0.0.0.0"
    assert int(env.values["API_PORT"]) == port["containerPort"]
    spec = _pod(manifest)
    assert spec["timeoutSeconds"] == CLOUD_RUN_MAX_REQUEST_TIMEOUT_S, "event streams last"
    assert 1 <= spec["containerConcurrency"] <= 1000
    assert int(_revision(manifest)["metadata"]["annotations"]["autoscaling.knative.dev/minScale"])


def test_api_probes_hit_routes_the_api_has_with_a_host_it_answers() -> None:
    manifest = _load("api.yaml")
    container = _container(manifest)
    env = _env(manifest)
    settings = _settings(env, orch_admin_token="x" * 64)
    policy = BrowserPolicy.from_settings(settings)
    routes = _get_routes()
    port = container["ports"][0]["containerPort"]
    paths = {}
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container[kind]
        get = probe["httpGet"]
        assert get["path"] in routes, (kind, get["path"])
        assert get["port"] == port, kind
        headers = {h["name"].lower(): h["value"] for h in get.get("httpHeaders", [])}
        assert policy.host_allowed(headers.get("host", "")), (kind, headers)
        assert 1 <= probe["timeoutSeconds"] <= probe["periodSeconds"], kind
        paths[kind] = get["path"]
    assert paths == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    # The liveness route as the probe asks it, through the API's Host check and auth (its
    # lifespan is not entered: /healthz needs neither the database nor Temporal).
    get = container["livenessProbe"]["httpGet"]
    headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
    client = TestClient(create_app(settings), base_url=f"http://{headers['Host']}")
    answer = client.get(get["path"], headers=headers)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}, answer.text
    assert manifest["metadata"]["annotations"]["run.googleapis.com/launch-stage"] == "BETA"


def test_api_answers_its_public_url_and_has_an_admin_token() -> None:
    env = _env(_load("api.yaml"))
    settings = _settings(env, orch_admin_token="x" * 64)
    policy = BrowserPolicy.from_settings(settings)
    public = f"orch-api-{PLACEHOLDERS['PROJECT_NUMBER']}.{PLACEHOLDERS['REGION']}.run.app"
    assert env.values["PUBLIC_URL"] == f"https://{public}"
    assert policy.host_allowed(public) and policy.host_allowed(PLACEHOLDERS["API_ALLOWED_HOSTS"])
    assert not policy.any_host
    assert env.secrets["ORCH_ADMIN_TOKEN"] == "orch-admin-token"
    check_auth_settings(settings)
    assert settings.api_auth == "on"


# --------------------------------------------------------------------------- the worker


def test_worker_keeps_its_cpu_and_one_instance() -> None:
    annotations = _revision(_load("worker.yaml"))["metadata"]["annotations"]
    assert annotations["run.googleapis.com/cpu-throttling"] == "false"
    assert int(annotations["autoscaling.knative.dev/minScale"]) >= 1


def test_worker_serves_metrics_on_the_probed_port() -> None:
    manifest = _load("worker.yaml")
    container = _container(manifest)
    [port] = container["ports"]
    settings = _settings(_env(manifest))
    assert settings.worker_metrics_port == port["containerPort"]
    assert settings.worker_metrics_host == "0.0.0.0"
    probe = container["startupProbe"]
    assert probe["tcpSocket"]["port"] == port["containerPort"]
    assert 1 <= probe["timeoutSeconds"] <= probe["periodSeconds"]


def test_worker_drains_inside_cloud_runs_stop_grace() -> None:
    settings = _settings(_env(_load("worker.yaml")))
    assert 0 < settings.worker_shutdown_grace_s < CLOUD_RUN_STOP_GRACE_S
    # Left for cancelling what is still running and reporting it to Temporal.
    assert CLOUD_RUN_STOP_GRACE_S - settings.worker_shutdown_grace_s >= 1.5
    assert Settings.model_fields["worker_shutdown_grace_s"].default > CLOUD_RUN_STOP_GRACE_S, (
        "the default no longer needs overriding here: update the manifest and docs"
    )


def test_worker_and_api_share_the_temporal_settings() -> None:
    api, worker = _env(_load("api.yaml")), _env(_load("worker.yaml"))
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "DATABASE_URL"):
        assert api.values[name] == worker.values[name], name
    assert api.secrets["TEMPORAL_API_KEY"] == worker.secrets["TEMPORAL_API_KEY"]
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        assert key in worker.secrets and key not in api.secrets, key


# --------------------------------------------------------------------------- mTLS variant


@pytest.mark.parametrize("name", ["api.yaml", "worker.yaml"])
def test_mtls_variant_mounts_the_cert_and_key_it_names(name: str) -> None:
    manifest = _load(name, mtls=True)
    env = _env(manifest)
    assert "TEMPORAL_API_KEY" not in env.secrets
    settings = _settings(env)
    assert settings.temporal_tls_cert and settings.temporal_tls_key
    volumes = {volume["name"]: volume for volume in _pod(manifest)["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in _container(manifest)["volumeMounts"]}
    assert len(mounts) == len(_container(manifest)["volumeMounts"]), "one volume per path"
    for path in (settings.temporal_tls_cert, settings.temporal_tls_key):
        file = PurePosixPath(str(path))
        volume = volumes[mounts[str(file.parent)]]
        items = volume["secret"]["items"]
        assert [item["path"] for item in items] == [file.name], (path, items)
        assert volume["secret"]["secretName"].startswith("orch-temporal-tls-")
    # Without the edit the manifest has neither, and uses the API key.
    plain = _load(name)
    assert "volumes" not in _pod(plain) and "volumeMounts" not in _container(plain)
    assert "TEMPORAL_API_KEY" in _env(plain).secrets
