"""Providers' request settings and price tables; agents' fallbacks, budgets, model-call settings,
output schema, approval timeout and prompt variables: validation, versioning, snapshot."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config_store import agents, providers
from config_store.models import AgentVersion
from config_store.specs import AgentIn, ProviderIn
from core.errors import Conflict, InvalidConfig
from workflows.types import AgentSpec, ModelChoice, ModelPrice, ProviderSpec

PRICES = [
    {"model": "big", "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10},
    {
        "model": "small",
        "input_usd_per_mtok": 0.15,
        "output_usd_per_mtok": 0.6,
        "cached_input_usd_per_mtok": 0.075,
    },
]

SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def agent(**overrides: object) -> AgentIn:
    values: dict[str, object] = {"provider": "p", "model": "m1", "tools": ["calc"]}
    values.update(overrides)
    return AgentIn.model_validate(values)


def provider(**overrides: object) -> ProviderIn:
    values: dict[str, object] = {"kind": "openai_compatible", "base_url": "http://x/v1"}
    values.update(overrides)
    return ProviderIn.model_validate(values)


@pytest.fixture
def two_providers(basics: Session) -> Session:
    """`basics` plus `q` (openai_compatible, default model q-default, headers, prices)."""
    providers.create_provider(
        basics,
        "q",
        provider(
            default_model="q-default",
            timeout_s=12.5,
            headers={"X-Org": "${ORG_ID}", "anthropic-beta": "tools-2024"},
            prices=PRICES,
        ),
    )
    basics.commit()
    return basics


def test_defaults_agree_with_the_boundary_types() -> None:
    """What the API and seeds default to is what a hand-built spec defaults to."""
    spec = AgentSpec(
        name="a", version=1, provider=ProviderSpec(name="p", kind="scripted"), model=""
    )
    given = AgentIn(provider="p")
    for key in (
        "max_total_tokens",
        "max_cost_usd",
        "max_duration_s",
        "model_timeout_s",
        "model_max_attempts",
        "output_schema",
        "max_output_repairs",
        "approval_timeout_s",
    ):
        assert getattr(given, key) == getattr(spec, key), key
    assert ProviderIn(kind="scripted").timeout_s == spec.provider.timeout_s


def test_provider_settings_round_trip(session: Session) -> None:
    row = providers.create_provider(
        session, "q", provider(timeout_s=5, headers={"X-Team": "a-${TEAM}"}, prices=PRICES)
    )
    session.commit()
    assert (row.timeout_s, row.headers) == (5.0, {"X-Team": "a-${TEAM}"})
    assert row.prices[1]["cached_input_usd_per_mtok"] == 0.075
    same = provider(timeout_s=5, headers={"X-Team": "a-${TEAM}"}, prices=PRICES)
    assert providers.upsert_provider(session, "q", same) == "unchanged"
    assert providers.upsert_provider(session, "q", provider()) == "updated"
    session.commit()
    assert (row.timeout_s, row.headers, row.prices) == (60.0, {}, [])


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": -1}, "timeout_s"),
        ({"timeout_s": 600.5}, "timeout_s"),
        ({"timeout_s": float("nan")}, "timeout_s"),
        ({"headers": {"Bad Name": "x"}}, "headers.Bad Name"),
        ({"headers": {"": "x"}}, "headers."),
        ({"headers": {"Authorization": "Bearer ${T}"}}, "headers.Authorization"),
        ({"headers": {"X-API-KEY": "${T}"}}, "headers.X-API-KEY"),
        ({"headers": {"api-key": "${T}"}}, "headers.api-key"),
        ({"headers": {"X-Ok": "${not-a-name}"}}, "headers.X-Ok"),
        ({"headers": {"X-Ok": "${}"}}, "headers.X-Ok"),
        ({"headers": {"X-Ok": "a ${OPEN"}}, "headers.X-Ok"),
        ({"headers": {"X-Ok": "a\r\nInjected: yes"}}, "headers.X-Ok"),
        ({"prices": [{**PRICES[0], "model": ""}]}, "prices[0].model"),
        ({"prices": [PRICES[0], PRICES[0]]}, "prices[1].model"),
        ({"prices": [{**PRICES[0], "input_usd_per_mtok": -1}]}, "prices[0].input_usd_per_mtok"),
        (
            {"prices": [{**PRICES[1], "output_usd_per_mtok": float("inf")}]},
            "prices[0].output_usd_per_mtok",
        ),
        (
            {"prices": [PRICES[0], {**PRICES[1], "cached_input_usd_per_mtok": -0.1}]},
            "prices[1].cached_input_usd_per_mtok",
        ),
    ],
)
def test_provider_validation_names_the_field(
    session: Session, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidConfig) as err:
        providers.create_provider(session, "q", provider(**values))
    assert err.value.field == field


def test_key_headers_point_at_api_key_env(session: Session) -> None:
    with pytest.raises(InvalidConfig) as err:
        providers.create_provider(session, "q", provider(headers={"authorization": "x"}))
    assert "api_key_env" in err.value.problem


def test_good_headers(session: Session) -> None:
    headers = {
        "X-Org": "${ORG}-${TEAM}",
        "HTTP-Referer": "https://example.org",
        "X-Title": "plain $ and {braces} and tab\there",
    }
    assert providers.create_provider(session, "q", provider(headers=headers)).headers == headers


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fallbacks": [{"provider": "q"}, {"provider": "nope"}]}, "fallbacks[1].provider"),
        ({"fallbacks": [{"provider": "bare"}]}, "fallbacks[0].model"),
        ({"fallbacks": [{"provider": "p", "model": "m1"}]}, "fallbacks[0]"),
        (
            {"fallbacks": [{"provider": "q"}, {"provider": "q", "model": "q-default"}]},
            "fallbacks[1]",
        ),
        ({"max_total_tokens": 0}, "max_total_tokens"),
        ({"max_cost_usd": 0}, "max_cost_usd"),
        ({"max_cost_usd": -1.5}, "max_cost_usd"),
        ({"max_duration_s": 0}, "max_duration_s"),
        ({"max_duration_s": float("inf")}, "max_duration_s"),
        ({"model_timeout_s": 0.5}, "model_timeout_s"),
        ({"model_timeout_s": 3601}, "model_timeout_s"),
        ({"model_max_attempts": 0}, "model_max_attempts"),
        ({"model_max_attempts": 101}, "model_max_attempts"),
        ({"output_schema": {"type": "nope"}}, "output_schema"),
        ({"output_schema": {"properties": {"n": {"minimum": "zero"}}}}, "output_schema"),
        ({"max_output_repairs": -1}, "max_output_repairs"),
        ({"max_output_repairs": 11}, "max_output_repairs"),
        ({"approval_timeout_s": 0}, "approval_timeout_s"),
        ({"approval_timeout_s": 0.5}, "approval_timeout_s"),
        ({"approval_timeout_s": 604800.5}, "approval_timeout_s"),
        ({"approval_timeout_s": float("nan")}, "approval_timeout_s"),
        ({"approval_timeout_s": float("inf")}, "approval_timeout_s"),
        ({"prompt_variables": ["ok", "not ok"]}, "prompt_variables[1]"),
        ({"prompt_variables": ["input"]}, "prompt_variables[0]"),
        ({"system_prompt": "hi {{ who }}"}, "system_prompt"),
        ({"system_prompt": "hi\n{% if %}"}, "system_prompt"),
    ],
)
def test_agent_validation_names_the_field(
    two_providers: Session, overrides: dict[str, object], field: str
) -> None:
    providers.create_provider(two_providers, "bare", ProviderIn(kind="scripted"))
    with pytest.raises(InvalidConfig) as err:
        agents.create_agent(two_providers, "a", agent(**overrides))
    assert err.value.field == field


def test_approval_timeout_defaults_to_an_hour(basics: Session) -> None:
    row = agents.create_agent(basics, "a", agent())
    basics.commit()
    assert row.approval_timeout_s == 3600.0
    assert agents.snapshot_agent(basics, "a").approval_timeout_s == 3600.0
    # Written out, the default is the same content; the bounds are allowed.
    assert agents.upsert_agent(basics, "a", agent(approval_timeout_s=3600)) == ("unchanged", 1)
    assert agents.upsert_agent(basics, "a", agent(approval_timeout_s=1)) == ("updated", 2)
    assert agents.upsert_agent(basics, "a", agent(approval_timeout_s=604800)) == ("updated", 3)
    basics.commit()
    assert agents.snapshot_agent(basics, "a", 2).approval_timeout_s == 1.0


def test_template_errors_say_where(basics: Session) -> None:
    with pytest.raises(InvalidConfig) as err:
        agents.create_agent(basics, "a", agent(system_prompt="Hi.\n\nYou help {{ customer }}."))
    assert err.value.problem.startswith("line 3: unknown variable 'customer'")
    created = agents.create_agent(
        basics,
        "a",
        agent(system_prompt="Hi.\n\nYou help {{ customer }}.", prompt_variables=["customer"]),
    )
    assert created.prompt_variables == ["customer"]


@pytest.mark.parametrize(
    "change",
    [
        {"fallbacks": [{"provider": "q"}]},
        {"fallbacks": [{"provider": "q", "model": "other"}]},
        {"max_total_tokens": 1000},
        {"max_cost_usd": 0.5},
        {"max_duration_s": 30},
        {"model_timeout_s": 30},
        {"model_max_attempts": 3},
        {"output_schema": SCHEMA},
        {"output_schema": {"type": "object", "properties": {"n": {"const": True}}}},
        {"max_output_repairs": 0},
        {"approval_timeout_s": 60},
        {"prompt_variables": ["tone"]},
        {"system_prompt": "{{ agent }} on {{ date }}"},
    ],
)
def test_each_new_field_is_part_of_the_version(
    two_providers: Session, change: dict[str, object]
) -> None:
    s = two_providers
    base = {
        "fallbacks": [{"provider": "q", "model": "q-default"}],
        "output_schema": {"type": "object", "properties": {"n": {"const": 1}}},
    }
    agents.create_agent(s, "a", agent(**base))
    s.commit()
    assert agents.upsert_agent(s, "a", agent(**base)) == ("unchanged", 1)
    assert agents.upsert_agent(s, "a", agent(**{**base, **change})) == ("updated", 2)
    assert agents.upsert_agent(s, "a", agent(**{**base, **change})) == ("unchanged", 2)
    s.commit()
    assert s.scalar(select(func.count()).select_from(AgentVersion)) == 2


def test_stored_version_reads_back(two_providers: Session) -> None:
    s = two_providers
    row = agents.create_agent(
        s,
        "a",
        agent(
            fallbacks=[{"provider": "q"}],
            max_total_tokens=5000,
            max_cost_usd=0.25,
            max_duration_s=90,
            model_timeout_s=20,
            model_max_attempts=4,
            output_schema=SCHEMA,
            max_output_repairs=1,
            approval_timeout_s=604800,
            prompt_variables=["tone"],
        ),
    )
    s.commit()
    s.expire_all()
    row = agents.get_agent(s, "a")
    assert row.fallbacks == [{"provider": "q", "model": ""}]
    assert (row.max_total_tokens, row.max_cost_usd, row.max_duration_s) == (5000, 0.25, 90.0)
    assert (row.model_timeout_s, row.model_max_attempts, row.max_output_repairs) == (20.0, 4, 1)
    assert row.approval_timeout_s == 604800.0
    assert (row.output_schema, row.prompt_variables) == (SCHEMA, ["tone"])
    plain = agents.create_agent(s, "b", agent())
    s.commit()
    s.expire_all()
    assert plain.output_schema is None  # SQL NULL, not JSON null
    assert plain.approval_timeout_s == 3600.0
    assert s.scalar(select(AgentVersion.id).where(AgentVersion.output_schema.is_(None))) == plain.id


def test_snapshot_resolves_fallbacks_prices_and_limits(two_providers: Session) -> None:
    s = two_providers
    agents.create_agent(
        s,
        "a",
        agent(
            system_prompt="Hi {{ tone }}",
            fallbacks=[{"provider": "q"}, {"provider": "q", "model": "small"}],
            max_total_tokens=5000,
            max_cost_usd=0.25,
            max_duration_s=90,
            model_timeout_s=20,
            model_max_attempts=4,
            output_schema=SCHEMA,
            max_output_repairs=1,
            approval_timeout_s=1,
            prompt_variables=["tone"],
        ),
    )
    s.commit()
    snap = agents.snapshot_agent(s, "a")
    q = ProviderSpec(
        name="q",
        kind="openai_compatible",
        base_url="http://x/v1",
        default_model="q-default",
        timeout_s=12.5,
        headers={"X-Org": "${ORG_ID}", "anthropic-beta": "tools-2024"},
        prices=(
            ModelPrice(model="big", input_usd_per_mtok=2.5, output_usd_per_mtok=10.0),
            ModelPrice(
                model="small",
                input_usd_per_mtok=0.15,
                output_usd_per_mtok=0.6,
                cached_input_usd_per_mtok=0.075,
            ),
        ),
    )
    assert snap.fallbacks == (ModelChoice(provider=q, model="q-default"), ModelChoice(q, "small"))
    assert snap.provider.timeout_s == 60.0 and snap.provider.prices == ()
    assert (snap.max_total_tokens, snap.max_cost_usd, snap.max_duration_s) == (5000, 0.25, 90.0)
    assert (snap.model_timeout_s, snap.model_max_attempts, snap.max_output_repairs) == (20.0, 4, 1)
    assert snap.approval_timeout_s == 1.0
    assert (snap.output_schema, snap.prompt_variables) == (SCHEMA, ("tone",))
    assert snap.system_prompt == "Hi {{ tone }}"  # the template: rendered when a run starts
    # A snapshot is independent of the stored row.
    assert snap.output_schema is not agents.get_agent(s, "a").output_schema
    assert dataclasses.replace(snap) == snap


def test_snapshot_when_a_fallback_can_no_longer_resolve(two_providers: Session) -> None:
    s = two_providers
    agents.create_agent(s, "a", agent(fallbacks=[{"provider": "q"}]))
    s.commit()
    providers.update_provider(s, "q", provider())  # no default_model any more
    s.commit()
    with pytest.raises(InvalidConfig) as err:
        agents.snapshot_agent(s, "a")
    assert err.value.field == "fallbacks[0].model"


def test_a_fallback_provider_cannot_be_deleted(two_providers: Session) -> None:
    s = two_providers
    agents.create_agent(s, "a", agent(fallbacks=[{"provider": "q"}]))
    agents.update_agent(s, "a", agent())  # only version 1 lists it
    s.commit()
    with pytest.raises(Conflict):
        providers.delete_provider(s, "q")
    s.rollback()
    agents.delete_agent(s, "a")
    providers.delete_provider(s, "q")
    s.commit()
