"""web_search against real local fakes of the SearXNG and Brave Search wire formats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from activities.tools.base import InvalidArguments, OutboundPolicy, ToolContext, ToolError
from activities.tools.net import BlockedDestination, UpstreamUnavailable
from activities.tools.registry import execute_tool
from activities.tools.web_search import PARAMETERS
from config_store.specs import ToolIn
from core.errors import InvalidConfig
from services.tools import create_tool
from tests.fakes.search_servers import BRAVE_KEY, FakeSearchServer
from workflows.types import ToolSpec

LOCAL = OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}))


@pytest.fixture(scope="module")
def _server() -> Iterator[FakeSearchServer]:
    server = FakeSearchServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(_server: FakeSearchServer) -> FakeSearchServer:
    _server.queries.clear()
    _server.json_enabled = True
    _server.answers, _server.suggestions, _server.fault = [], [], None
    _server.echo_key = False
    return _server


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(
        workspace_dir=tmp_path, env={"BRAVE_SEARCH_API_KEY": BRAVE_KEY}, outbound=LOCAL
    )


def searxng(server: FakeSearchServer, **config: Any) -> ToolSpec:
    return ToolSpec(
        name="search",
        kind="web_search",
        config={"backend": "searxng", "base_url": server.base_url, **config},
    )


def brave(server: FakeSearchServer, **config: Any) -> ToolSpec:
    return ToolSpec(
        name="search",
        kind="web_search",
        config={"backend": "brave", "base_url": server.base_url, **config},
    )


async def _problem(spec: ToolSpec, arguments: dict[str, Any], ctx: ToolContext) -> ToolError:
    with pytest.raises(ToolError) as caught:
        await execute_tool(spec, arguments, ctx)
    return caught.value


async def test_searxng_request_and_result(server: FakeSearchServer, ctx: ToolContext) -> None:
    spec = searxng(server, categories=["general", "news"], language="en", safesearch=1)

    result = await execute_tool(spec, {"query": "durable temporal"}, ctx)

    (query,) = server.queries
    assert query.path == "/search"
    assert query.params == {
        "q": "durable temporal",
        "format": "json",
        "categories": "general,news",
        "language": "en",
        "safesearch": "1",
    }
    lines = result.splitlines()
    assert lines[:4] == [
        "Results for 'durable temporal':",
        "1. Temporal: durable execution",
        "   https://temporal.io/",
        "   Temporal is a durable execution platform & workflow engine.",
    ]
    # The fake answers 20 hits; the default cap is 5.
    assert [line.split(".")[0] for line in lines if line[:1].isdigit()] == list("12345")
    long_snippet = lines[-1].strip()
    assert len(long_snippet) == 300 and long_snippet.endswith("…")
    assert "  " not in long_snippet


async def test_max_results_is_capped_by_config(server: FakeSearchServer, ctx: ToolContext) -> None:
    three = await execute_tool(searxng(server), {"query": "durable", "max_results": 3}, ctx)
    capped = await execute_tool(
        searxng(server, max_results=2), {"query": "durable", "max_results": 10}, ctx
    )

    assert "3. " in three and "4. " not in three
    assert "2. " in capped and "3. " not in capped
    too_many = await _problem(searxng(server), {"query": "durable", "max_results": 50}, ctx)
    assert isinstance(too_many, InvalidArguments)
    assert isinstance(await _problem(searxng(server), {"query": ""}, ctx), InvalidArguments)
    assert isinstance(await _problem(searxng(server), {"query": "x" * 401}, ctx), InvalidArguments)


async def test_searxng_no_results_answers_and_suggestions(
    server: FakeSearchServer, ctx: ToolContext
) -> None:
    server.suggestions = ["durable execution"]
    server.answers = [{"answer": "An answer.", "url": "https://a.example/"}, "Old-style answer"]

    result = await execute_tool(searxng(server), {"query": "zzzqqq"}, ctx)

    assert result == (
        "Answer: An answer.\nAnswer: Old-style answer\n"
        "No results for 'zzzqqq'.\nSuggestions: durable execution"
    )


async def test_searxng_without_json_format(server: FakeSearchServer, ctx: ToolContext) -> None:
    server.json_enabled = False

    problem = await _problem(searxng(server), {"query": "durable"}, ctx)

    assert "search.formats" in str(problem)


async def test_upstream_errors_are_retried(server: FakeSearchServer, ctx: ToolContext) -> None:
    server.fault = 503
    with pytest.raises(UpstreamUnavailable):
        await execute_tool(searxng(server), {"query": "durable"}, ctx)
    server.fault = 429
    with pytest.raises(UpstreamUnavailable):
        await execute_tool(brave(server), {"query": "durable"}, ctx)


async def test_brave_request_and_result(server: FakeSearchServer, ctx: ToolContext) -> None:
    spec = brave(server, country="de", safesearch="strict")

    result = await execute_tool(spec, {"query": "durable", "max_results": 2}, ctx)

    (query,) = server.queries
    assert query.path == "/res/v1/web/search"
    assert query.params == {"q": "durable", "count": "2", "country": "de", "safesearch": "strict"}
    assert query.headers["x-subscription-token"] == BRAVE_KEY
    assert query.headers["accept"] == "application/json"
    lines = result.splitlines()
    assert lines[:3] == [
        "Results for 'durable':",
        "1. Temporal: durable execution",
        "   https://temporal.io/",
    ]
    assert "2. Durable page 1" in result and "3. " not in result
    assert "<strong>" not in result and "Durable result 1." in result
    assert BRAVE_KEY not in result


async def test_brave_no_results(server: FakeSearchServer, ctx: ToolContext) -> None:
    assert await execute_tool(brave(server), {"query": "zzzqqq"}, ctx) == "No results for 'zzzqqq'."


async def test_brave_key_missing_or_wrong(server: FakeSearchServer, tmp_path: Path) -> None:
    no_env = ToolContext(workspace_dir=tmp_path, outbound=LOCAL)
    wrong = ToolContext(
        workspace_dir=tmp_path, env={"MY_BRAVE": "not-the-right-key"}, outbound=LOCAL
    )

    default = await _problem(brave(server), {"query": "durable"}, no_env)
    named = await _problem(brave(server, api_key_env="MY_BRAVE"), {"query": "durable"}, no_env)
    assert "BRAVE_SEARCH_API_KEY" in str(default)
    assert "MY_BRAVE" in str(named)
    assert server.queries == []

    refused = await _problem(brave(server, api_key_env="MY_BRAVE"), {"query": "durable"}, wrong)
    assert "MY_BRAVE" in str(refused) and "401" in str(refused)
    assert "not-the-right-key" not in str(refused)


async def test_an_echoed_key_is_redacted(server: FakeSearchServer, ctx: ToolContext) -> None:
    server.echo_key = True

    problem = await _problem(brave(server), {"query": "durable"}, ctx)

    assert "Brave Search answered 400" in str(problem)
    assert BRAVE_KEY not in str(problem) and "[redacted]" in str(problem)


@pytest.mark.parametrize("backend", ["searxng", "brave"])
async def test_the_guard_refuses_a_local_server_without_the_allowlist(
    server: FakeSearchServer, tmp_path: Path, backend: str
) -> None:
    ctx = ToolContext(workspace_dir=tmp_path, env={"BRAVE_SEARCH_API_KEY": BRAVE_KEY})
    spec = searxng(server) if backend == "searxng" else brave(server)

    with pytest.raises(BlockedDestination):
        await execute_tool(spec, {"query": "durable"}, ctx)
    assert server.queries == []


BAD_CONFIGS = [
    ({"backend": "google"}, "config.backend"),
    ({}, "config.backend"),
    ({"backend": "searxng"}, "config.base_url"),
    ({"backend": "searxng", "base_url": "ftp://search.example"}, "config.base_url"),
    ({"backend": "searxng", "base_url": "http:///nohost"}, "config.base_url"),
    ({"backend": "searxng", "base_url": "https://s.example?x=1"}, "config.base_url"),
    (
        {"backend": "searxng", "base_url": "https://s.example", "max_results": 0},
        "config.max_results",
    ),
    (
        {"backend": "searxng", "base_url": "https://s.example", "max_results": "5"},
        "config.max_results",
    ),
    ({"backend": "searxng", "base_url": "https://s.example", "safesearch": 5}, "config.safesearch"),
    ({"backend": "searxng", "base_url": "https://s.example", "categories": 3}, "config.categories"),
    ({"backend": "searxng", "base_url": "https://s.example", "language": ""}, "config.language"),
    ({"backend": "brave", "api_key_env": "not a name"}, "config.api_key_env"),
    ({"backend": "brave", "base_url": "api.search.brave.com"}, "config.base_url"),
    ({"backend": "brave", "safesearch": 1}, "config.safesearch"),
]


@pytest.mark.parametrize(("config", "field"), BAD_CONFIGS)
def test_check_config_rejects(
    session_factory: sessionmaker[Session], config: dict[str, Any], field: str
) -> None:
    with session_factory() as session, pytest.raises(InvalidConfig) as caught:
        create_tool(session, "search", ToolIn(kind="web_search", config=config))

    assert caught.value.field == field


def test_check_config_accepts(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        row = create_tool(
            session,
            "searx",
            ToolIn(
                kind="web_search",
                config={
                    "backend": "searxng",
                    "base_url": "http://searxng:8080/",
                    "categories": "general",
                    "safesearch": 0,
                    "max_results": 8,
                },
            ),
        )
        create_tool(session, "brave", ToolIn(kind="web_search", config={"backend": "brave"}))
        session.commit()

        assert row.parameters == PARAMETERS
        assert "Search the web" in row.description
