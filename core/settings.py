"""Settings, read from the environment (and an optional `.env`) when `get_settings()` is called."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The source tree this package runs from (core/ is one of its top-level packages).
REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./orchestrator.db"

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "orch-agents"
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = None  # client certificate (mTLS)
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_api_key: str | None = Field(default=None, repr=False)
    temporal_ui_url: str = "http://localhost:8233"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Base URL clients use to reach the API; events_url in responses is built from it.
    public_url: str | None = None
    # Host names (port ignored) the API answers besides the loopback names and PUBLIC_URL's host,
    # comma-separated; `*` answers any Host (DNS rebinding is then the operator's to stop).
    allowed_hosts: str = ""
    # Origins (scheme://host[:port]) allowed to call the API cross-origin, comma-separated. Empty:
    # CORS is off. They may also send state-changing requests (see api/guards.py).
    cors_origins: str = ""

    # Folder the file tools (read_file, write_file, list_files) are confined to.
    workspace_dir: Path = Path("./workspace")

    # Folders besides WORKSPACE_DIR that doc_search tools may search, comma-separated absolute
    # paths (e.g. "/srv/handbook,/opt/orch/docs").
    doc_search_roots: str = ""

    # Outbound HTTP of tools (http, http_request, web_search, github): hosts exempt from the
    # private/loopback/metadata address block, comma-separated (e.g. "localhost,searx.internal").
    outbound_allow_hosts: str = ""
    outbound_max_response_bytes: int = 1_000_000
    outbound_timeout_s: float = 30.0

    # A stdio MCP server runs a command on the API host (discovery) and on the worker. Off by
    # default, the API refuses to register or change one: the seed file (an operator's) may.
    mcp_stdio_from_api: bool = False

    # Authentication (api/auth.py). "on" (the default): every route but /healthz and /readyz
    # needs a bearer token; "off": none does, and the API refuses to bind anything but loopback.
    api_auth: Literal["on", "off"] = "on"
    # Accepted as an admin token besides the stored ones: how a deployment passes the first token
    # from its secret store. Never stored, never logged.
    orch_admin_token: str | None = Field(default=None, repr=False)
    # How long a stream token (an EventSource's `?token=`, bound to one run) opens its stream.
    stream_token_ttl_s: int = Field(default=300, ge=10, le=86_400)
    # How long a web app session (the `orch_session` cookie of POST /v1/session) lasts.
    session_ttl_s: int = Field(default=43_200, ge=60, le=2_592_000)
    # Where `orch up` keeps the local admin token it makes when ORCH_ADMIN_TOKEN is not set.
    local_token_file: Path = Path("./.orch/admin-token")

    # The built web app the API serves under /ui (`make web` builds it; the Docker image has it
    # in /app/web/dist). Default: web/dist of the source tree this package runs from.
    web_dist: Path = Field(default_factory=lambda: REPO_ROOT / "web" / "dist")

    # The largest request body the API reads; a larger one is a 413 payload_too_large.
    max_request_bytes: int = 1_000_000

    # How long a stopping worker (SIGINT/SIGTERM) lets its in-flight activities finish before it
    # cancels them. 25 s: longer than a typical tool or model call, and inside the 30 s a
    # Kubernetes pod (terminationGracePeriodSeconds) or this repo's compose worker
    # (stop_grace_period) gets before SIGKILL, leaving time to report the results.
    worker_shutdown_grace_s: float = Field(default=25.0, ge=0, le=3600)
    # How many activities (model and tool calls) one worker runs at once, and how many runs it
    # keeps in memory between their steps (a run evicted from it is replayed at its next step).
    # Model calls mostly wait on the provider; bench/scale.py runs 1,000 runs at once.
    worker_max_activities: int = Field(default=100, ge=1, le=10_000)
    worker_max_cached_runs: int = Field(default=1000, ge=1, le=100_000)

    # How long the records that keep a retried tool call from acting twice are kept: the
    # tool_call_ledger rows and the write_file journal (.orch-effects/). The worker deletes older
    # ones at start and every 6 hours (services/prune.py); 0: never. Keep it well above the
    # longest retry window of any tool (timeout_s x retry_attempts): docs/operations.md.
    effects_retention_days: int = Field(default=7, ge=0, le=36_500)

    # Logs (core/logs.py). LOG_LEVEL: a logging level name (DEBUG, INFO, WARNING, ERROR, ...).
    # LOG_FORMAT of the console: `auto` is text on a terminal, JSON lines otherwise. LOG_FILE:
    # the rotating file of JSON lines that `orch up`, `orch worker` and `orch api` also write;
    # empty: none. It rolls at LOG_FILE_MAX_BYTES, keeping LOG_FILE_BACKUPS old files.
    log_level: str = "INFO"
    log_format: Literal["auto", "text", "json"] = "auto"
    log_file: Path | None = Path("./.orch/orch.log")
    log_file_max_bytes: int = Field(default=10_000_000, ge=1024)
    log_file_backups: int = Field(default=5, ge=1, le=1000)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        name = value.strip().upper()
        if not logging.getLevelNamesMapping().get(name):  # NOTSET (0) is no level either
            raise ValueError(
                f"{value!r} is not a logging level: one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
            )
        return name

    @field_validator("log_file", mode="before")
    @classmethod
    def _log_file(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # Traces (core/tracing.py, docs/operations.md "Traces"): OpenTelemetry, on only when an OTLP
    # endpoint is set. The standard variables: OTEL_EXPORTER_OTLP_ENDPOINT is the collector's
    # base URL (spans go to its /v1/traces), OTEL_EXPORTER_OTLP_TRACES_ENDPOINT the full URL
    # instead; OTEL_SERVICE_NAME overrides orch-api / orch-worker / orch (`orch up`).
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_service_name: str | None = None

    # Metrics (api/metrics.py, temporal/telemetry.py; docs/operations.md#metrics).
    # True: the API's GET /metrics needs no token (for a scraper inside a private network);
    # False (the default): it needs a token of scope `read`, like the other read routes.
    metrics_public: bool = False
    # The worker's Prometheus endpoint (the Temporal SDK's, http://HOST:PORT/metrics): off
    # unless WORKER_METRICS_PORT is set. `orch worker` and `orch up` serve it.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65_535)
    worker_metrics_host: str = "127.0.0.1"

    # Embedded dev server (orch up).
    dev_server_port: int = 7233
    dev_server_ui_port: int = 8233
    dev_server_db: Path = Path("./.orch/temporal.db")


def allow_hosts(settings: Settings) -> frozenset[str]:
    """OUTBOUND_ALLOW_HOSTS as a set of lower-case host names."""
    return frozenset(
        host.strip().lower() for host in settings.outbound_allow_hosts.split(",") if host.strip()
    )


def doc_search_roots(settings: Settings) -> tuple[Path, ...]:
    """DOC_SEARCH_ROOTS as absolute paths (entries that are not absolute are ignored)."""
    entries = (entry.strip() for entry in settings.doc_search_roots.split(","))
    return tuple(Path(entry) for entry in entries if entry and Path(entry).is_absolute())


def get_settings() -> Settings:
    return Settings()
