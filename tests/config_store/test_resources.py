"""Providers, tools, routes and runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from config_store import providers, routes, runs
from config_store.agents import create_agent
from config_store.specs import AgentIn, ProviderIn, RouteIn
from core.errors import Conflict, InvalidConfig, NotFound


def test_provider_round_trip(session: Session) -> None:
    row = providers.create_provider(
        session, "openai", ProviderIn(kind="openai", api_key_env="OPENAI_API_KEY")
    )
    session.commit()
    assert row.created_at.tzinfo is not None
    assert (
        providers.upsert_provider(
            session, "openai", ProviderIn(kind="openai", api_key_env="OPENAI_API_KEY")
        )
        == "unchanged"
    )
    updated = providers.update_provider(
        session, "openai", ProviderIn(kind="openai", default_model="gpt-x")
    )
    session.commit()
    assert (updated.default_model, updated.api_key_env) == ("gpt-x", None)
    assert [p.name for p in providers.list_providers(session)] == ["openai"]
    with pytest.raises(Conflict):
        providers.create_provider(session, "openai", ProviderIn(kind="openai"))
    session.rollback()
    providers.delete_provider(session, "openai")
    with pytest.raises(NotFound):
        providers.get_provider(session, "openai")


@pytest.mark.parametrize(
    ("name", "values", "field"),
    [
        ("-x", {"kind": "scripted"}, "name"),
        ("x" * 65, {"kind": "scripted"}, "name"),
        ("x", {"kind": "openai_compatible"}, "base_url"),
        ("x", {"kind": "openai", "base_url": "ftp://h"}, "base_url"),
        ("x", {"kind": "openai", "api_key_env": "sk-123 secret"}, "api_key_env"),
    ],
)
def test_provider_validation(
    session: Session, name: str, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidConfig) as err:
        providers.create_provider(session, name, ProviderIn.model_validate(values))
    assert err.value.field == field


def test_provider_kind_is_checked_by_the_service(session: Session) -> None:
    with pytest.raises(InvalidConfig) as err:
        providers.create_provider(session, "x", ProviderIn.model_construct(kind="gemini"))  # type: ignore[arg-type]
    assert err.value.field == "kind"


def test_routes(session: Session) -> None:
    providers.create_provider(session, "p", ProviderIn(kind="scripted", default_model="m"))
    create_agent(session, "a", AgentIn(provider="p"))
    create_agent(session, "b", AgentIn(provider="p"))
    routes.create_route(session, "front", RouteIn(agent="a"))
    session.commit()
    assert routes.resolve_route(session, "front") == "a"
    routes.update_route(session, "front", RouteIn(agent="b", description="moved"))
    session.commit()
    assert routes.resolve_route(session, "front") == "b"
    assert routes.upsert_route(session, "front", RouteIn(agent="b", description="moved")) == (
        "unchanged"
    )
    with pytest.raises(InvalidConfig) as err:
        routes.create_route(session, "other", RouteIn(agent="zzz"))
    assert err.value.field == "agent"
    with pytest.raises(InvalidConfig) as err:
        routes.create_route(session, "Other", RouteIn(agent="a"))
    assert err.value.field == "key"
    with pytest.raises(Conflict):
        routes.create_route(session, "front", RouteIn(agent="a"))


def test_runs(session: Session) -> None:
    runs.record_run(session, "run-1", "a", 1, None, "hi")
    runs.record_run(session, "run-2", "a", 2, "front", "hello")
    session.commit()
    # Recording the same run again is a no-op; a different one under the same id is not.
    runs.record_run(session, "run-2", "a", 2, "front", "hello")
    with pytest.raises(Conflict):
        runs.record_run(session, "run-2", "b", 1, None, "other")
    assert runs.get_run(session, "run-1").input == "hi"
    assert [r.run_id for r in runs.list_runs(session)] == ["run-2", "run-1"]
    assert [r.run_id for r in runs.list_runs(session, limit=1)] == ["run-2"]
    with pytest.raises(NotFound):
        runs.get_run(session, "run-3")


def test_a_new_run_is_one_insert_with_its_defaults_and_an_old_id_a_conflict(
    session: Session,
) -> None:
    before = datetime.now(UTC).replace(tzinfo=None)
    runs.insert_run(session, "run-9", "a", 3, None, "hi", thread_id="t1", parent_run_id="p")
    session.commit()
    row = runs.get_run(session, "run-9")
    assert (row.agent_version, row.thread_id, row.parent_run_id, row.status) == (3, "t1", "p", None)
    created = row.created_at.replace(tzinfo=None)
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC).replace(tzinfo=None)
    with pytest.raises(Conflict, match="already recorded"):
        runs.insert_run(session, "run-9", "a", 3, None, "hi")
