"""Connect to Temporal from settings: the local dev server, a cluster or Temporal Cloud."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from core.errors import OrchError
from core.settings import Settings
from temporal.converter import COMPACT
from temporal.tracing import client_interceptors
from workflows.types import AGENT_NAME

# Custom search attributes the project sets on every run, sub-agents' included (registered by
# the dev server at start, and by the setup job in docker-compose).
SEARCH_ATTRIBUTES = (AGENT_NAME,)


def tls_config(settings: Settings) -> bool | TLSConfig | None:
    """TLS from settings: mTLS when a client certificate is given, plain TLS when asked for,
    and the SDK's default (TLS exactly when an API key is used) otherwise."""
    if settings.temporal_tls_cert or settings.temporal_tls_ca:
        return TLSConfig(
            server_root_ca_cert=(
                settings.temporal_tls_ca.read_bytes() if settings.temporal_tls_ca else None
            ),
            client_cert=(
                settings.temporal_tls_cert.read_bytes() if settings.temporal_tls_cert else None
            ),
            client_private_key=(
                settings.temporal_tls_key.read_bytes() if settings.temporal_tls_key else None
            ),
        )
    if settings.temporal_tls:
        return True
    return None


class TemporalUnavailable(OrchError):
    status_code = 503
    code = "temporal_unavailable"


async def connect(
    settings: Settings, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """A client for settings' Temporal; with `lazy`, it connects on its first call. `runtime`:
    the SDK runtime it (and a worker built on it) runs on; None: the SDK's default."""
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            api_key=settings.temporal_api_key,
            tls=tls_config(settings),
            lazy=lazy,
            data_converter=COMPACT,
            interceptors=client_interceptors(),  # none unless tracing is on
            runtime=runtime,
        )
    except RuntimeError as err:  # the SDK's "Failed client connect: ..."
        raise TemporalUnavailable(
            f"cannot reach Temporal at {settings.temporal_address}: {err}"
        ) from None


def workflow_ui_url(settings: Settings, run_id: str) -> str:
    base = settings.temporal_ui_url.rstrip("/")
    return f"{base}/namespaces/{settings.temporal_namespace}/workflows/{run_id}"
