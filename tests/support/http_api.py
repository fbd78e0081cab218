"""The fake HTTP API server (tests/fakes/http_api_server.py): one per test module that asks."""

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
