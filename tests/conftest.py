"""Fixtures live in plugin modules, one per kind of real service the tests need."""

from collections import Counter

import pytest

# Helpers in tests/support assert too: rewrite them so a failure shows the values.
pytest.register_assert_rewrite("tests.support")

pytest_plugins = [
    "tests.support.db",
    "tests.support.http_api",
    "tests.support.mcp",
    "tests.support.provider",
    "tests.support.temporal",
]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """pytest-xdist schedules tests by node id, so tests that share one run once, not once each
    (schemathesis' per-operation tests do). `make unit` runs such a file in a pytest process of
    its own; one that comes under xdist is refused rather than silently cut short."""
    counts = Counter(ids)
    shared = sorted(nodeid for nodeid, n in counts.items() if n > 1)
    if shared:
        pytest.exit(
            "under pytest-xdist these tests would run once instead of once per case (one node "
            f"id for many): {', '.join(shared)}; run their file without -n (see `make unit`)",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )
