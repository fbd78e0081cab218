"""What the tests share, so that no test module imports another.

Fixture plugins (listed in tests/conftest.py's `pytest_plugins`): `db` (migrated SQLite and
Postgres databases), `temporal` (the dev server, a worker per test, the API over HTTP), `mcp`
(the fake MCP server), `provider` (the fake model provider), `http_api` (the fake HTTP API).
Helpers: `runs` (start and follow AgentRun workflows), `cli` (the `orch` command as a
subprocess), `sse` (an SSE reader), `llm` (model requests for the provider tests), `deploy`
(the deployment files and `docker-compose`).
The fake servers themselves live in tests/fakes/.
"""
