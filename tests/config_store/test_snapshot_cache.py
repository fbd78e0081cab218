"""A run's start reads one row when nothing its agent's snapshot reads changed; any change to
the agent, its provider, its tools, MCP servers or the agents it calls takes a fresh one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from config_store import agents, providers, tools
from config_store.snapshot_cache import SnapshotCache
from config_store.specs import AgentIn, ProviderIn, ToolIn
from core.errors import InvalidConfig, NotFound
from tests.support.store import CALC_PARAMS


def spec(**overrides: object) -> AgentIn:
    values: dict[str, object] = {"provider": "p", "model": "m1", "tools": ["calc"]}
    values.update(overrides)
    return AgentIn.model_validate(values)


@pytest.fixture
def statements(basics: Session) -> Iterator[list[str]]:
    """The SQL statements the session's engine runs from here on."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = basics.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_a_second_snapshot_reads_one_row(basics: Session, statements: list[str]) -> None:
    s = basics
    agents.create_agent(s, "a", spec(tools=["calc", "read"]))
    s.commit()
    cache = SnapshotCache()
    first = cache.snapshot(s, "a")
    taken = len(statements)
    again = cache.snapshot(s, "a")
    assert taken > 2 and len(statements) - taken == 1
    assert again == first == agents.snapshot_agent(s, "a")


def test_a_change_to_what_it_reads_takes_a_fresh_snapshot(basics: Session) -> None:
    s = basics
    agents.create_agent(s, "a", spec())
    agents.create_agent(s, "callee", spec(tools=[]))
    tools.create_tool(s, "ask", ToolIn(kind="agent", config={"agent": "callee"}))
    s.commit()
    cache = SnapshotCache()
    assert cache.snapshot(s, "a").tools[0].timeout_s != 7

    tools.update_tool(s, "calc", ToolIn(kind="calculator", parameters=CALC_PARAMS, timeout_s=7))
    s.commit()
    assert cache.snapshot(s, "a").tools[0].timeout_s == 7

    providers.update_provider(s, "p", ProviderIn(kind="scripted", default_model="m-other"))
    s.commit()
    agents.update_agent(s, "a", spec(model=""))
    s.commit()
    assert (cache.snapshot(s, "a").version, cache.snapshot(s, "a").model) == (2, "m-other")
    assert cache.snapshot(s, "a", 1).model == "m1"  # an older version, asked for by number

    agents.update_agent(s, "a", spec(tools=["calc", "ask"]))
    s.commit()
    assert cache.snapshot(s, "a").tools[1].config["version"] == 1
    agents.update_agent(s, "callee", spec(tools=[], model="m2"))
    s.commit()
    assert cache.snapshot(s, "a").tools[1].config["version"] == 2  # the callee's new version


def test_errors_are_the_snapshots_own(basics: Session) -> None:
    s = basics
    cache = SnapshotCache()
    with pytest.raises(NotFound):
        cache.snapshot(s, "nobody")
    agents.create_agent(s, "a", spec(tools=["read"]))
    s.commit()
    cache.snapshot(s, "a")
    agents.update_agent(s, "a", spec(tools=[]))
    tools.delete_tool(s, "read")
    s.commit()
    with pytest.raises(InvalidConfig, match="no longer exists"):
        cache.snapshot(s, "a", 1)
    with pytest.raises(NotFound):
        cache.snapshot(s, "a", 9)


def test_cached_answers_only_from_what_it_holds(basics: Session, statements: list[str]) -> None:
    s = basics
    agents.create_agent(s, "a", spec(system_prompt="Be brief."))
    s.commit()
    cache = SnapshotCache()
    before = len(statements)
    assert cache.cached(s, "a") is None  # never taken: no snapshot of its own either
    assert len(statements) - before == 1
    taken = cache.snapshot(s, "a")
    before = len(statements)
    assert cache.cached(s, "a") == taken
    assert len(statements) - before == 1  # the stamp, nothing else
    assert cache.cached(s, "nobody") is None

    agents.update_agent(s, "a", spec(system_prompt="Be thorough."))
    s.commit()
    assert cache.cached(s, "a") is None  # the agent moved on: the held one is not its snapshot
    assert cache.snapshot(s, "a").system_prompt == "Be thorough."


def test_cached_answers_the_same_on_a_core_connection(
    basics: Session, statements: list[str]
) -> None:
    s = basics
    agents.create_agent(s, "a", spec(system_prompt="Be brief."))
    s.commit()
    cache = SnapshotCache()
    taken = cache.snapshot(s, "a")
    with s.get_bind().engine.connect() as connection:  # what a start on SQLite reads with
        before = len(statements)
        assert cache.cached(connection, "a") is taken
        assert len(statements) - before == 1
        assert cache.cached(connection, "nobody") is None
    agents.update_agent(s, "a", spec(system_prompt="Be thorough."))
    s.commit()
    with s.get_bind().engine.connect() as connection:
        assert cache.cached(connection, "a") is None
