"""Fixtures live in plugin modules, one per kind of real service the tests need."""

pytest_plugins = [
    "tests.fixtures_db",
    "tests.fixtures_mcp",
    "tests.fixtures_provider",
    "tests.fixtures_temporal",
]
