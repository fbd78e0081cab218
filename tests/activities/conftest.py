"""The fake HTTP API the outbound guard and HTTP tool tests talk to."""

from __future__ import annotations

import pytest

from tests.fakes.http_api_server import FakeHttpApiServer


@pytest.fixture
def api(http_api_server: FakeHttpApiServer) -> FakeHttpApiServer:
    """The module's fake HTTP API, with no answers, queued answers or recorded requests."""
    http_api_server.reset()
    return http_api_server
