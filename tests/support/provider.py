"""The fake model provider: one real HTTP server per session, reset for every test; and a record
of the provider clients a pool builds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from activities.llm import clients as clients_module
from activities.llm.registry import ProviderSettings, SdkClient, new_client
from tests.fakes.provider_server import FakeProviderServer
from workflows.types import ProviderSpec


@pytest.fixture(scope="session")
def provider_server() -> Iterator[FakeProviderServer]:
    server = FakeProviderServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_provider(provider_server: FakeProviderServer) -> FakeProviderServer:
    """The session's fake provider, running, with no queued replies, faults or requests."""
    provider_server.reset()
    return provider_server


@dataclass
class ClientBuilds:
    """Every provider SDK client the worker's pool built, and the thread each was built on."""

    clients: list[SdkClient] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)


@pytest.fixture
def client_builds(monkeypatch: pytest.MonkeyPatch) -> ClientBuilds:
    """Records the clients `activities.llm.clients.ProviderClients` builds (it still builds them
    as usual)."""
    seen = ClientBuilds()

    def recording(spec: ProviderSpec, settings: ProviderSettings) -> SdkClient:
        client = new_client(spec, settings)
        seen.clients.append(client)
        seen.threads.append(threading.get_ident())
        return client

    monkeypatch.setattr(clients_module, "new_client", recording)
    return seen


def fake_openai(fake: FakeProviderServer, key_env: str, name: str = "fake-openai") -> ProviderSpec:
    """An openai provider that calls the fake provider, its key in `key_env`."""
    return ProviderSpec(
        name=name, kind="openai", base_url=fake.openai_base_url, api_key_env=key_env
    )


DEAD_KEY_ENV = "ORCH_TEST_DEAD_KEY"


def dead_provider(monkeypatch: pytest.MonkeyPatch) -> ProviderSpec:
    """An openai provider nothing answers (port 9, discard): a run of it stays in its first step,
    the model call retried, until it is cancelled or terminated. Sets its key's variable."""
    monkeypatch.setenv(DEAD_KEY_ENV, "k")
    return ProviderSpec(
        name="dead", kind="openai", base_url="http://127.0.0.1:9/v1", api_key_env=DEAD_KEY_ENV
    )
