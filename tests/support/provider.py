"""The fake model provider: one real HTTP server per session, reset for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.provider_server import FakeProviderServer


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
