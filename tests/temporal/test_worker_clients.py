"""The worker's provider clients: runs on one provider share one client and one connection, and
the clients are closed once the worker has stopped."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from activities.llm.clients import ProviderClients
from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.worker import build_worker
from tests.fakes.provider_server import FakeProviderServer, FakeToolCall
from tests.support.provider import ClientBuilds
from tests.support.runs import demo_spec, run_agent
from workflows.kinds import ProviderKind
from workflows.types import ProviderSpec

KEY_ENV = "ORCH_TEST_PROVIDER_KEY"


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_runs_share_the_workers_client_which_closes_with_the_worker(
    kind: ProviderKind,
    fake_provider: FakeProviderServer,
    client_builds: ClientBuilds,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test-worker-clients")
    base = fake_provider.openai_base_url if kind == "openai" else fake_provider.anthropic_base_url
    provider = ProviderSpec(name="fake", kind=kind, base_url=base, api_key_env=KEY_ENV)
    spec = demo_spec(seeded, provider=provider, model="m")
    pool = ProviderClients()
    async with build_worker(temporal_client, orch_settings, TranscriptStore(seeded), clients=pool):
        for _ in range(2):
            fake_provider.queue_tool_calls([FakeToolCall("calculator", {"expression": "6*7"})])
            fake_provider.queue_text("42")
            _, result = await run_agent(temporal_client, orch_settings, spec, "6*7?")
            assert result.answer == "42"
        assert len(fake_provider.requests) == 4
        assert len(client_builds.clients) == 1 and len(pool) == 1
        assert fake_provider.connections == 1  # one connection for both runs' steps
        (client,) = client_builds.clients
        assert not client.is_closed()
    assert client.is_closed()  # the worker stopped: its pool closed the client
    assert len(pool) == 0
