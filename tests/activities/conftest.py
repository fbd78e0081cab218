"""The fake HTTP API the outbound guard and HTTP tool tests talk to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.http_api_server import FakeHttpApiServer


@pytest.fixture(scope="module")
def http_api_server() -> Iterator[FakeHttpApiServer]:
    """One fake HTTP API server per test module."""
    fake = FakeHttpApiServer()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def api(http_api_server: FakeHttpApiServer) -> FakeHttpApiServer:
    """The module's fake HTTP API, with no answers, queued answers or recorded requests."""
    http_api_server.reset()
    return http_api_server
