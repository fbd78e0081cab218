"""Fixtures live in plugin modules, one per kind of real service the tests need."""

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
