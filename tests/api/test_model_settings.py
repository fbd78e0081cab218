"""The providers' and agents' model settings over HTTP, and run variables.

Temporal is a dead port here: a run request refused for its variables or template must be
refused before any Temporal call (a 422, not a 503), and start nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from config_store.runs import list_runs
from core.settings import Settings
from tests.support.auth import ADMIN_TOKEN, AUTH

PROMPT = "You help {{ customer }}.\n{% if tone is defined %}Be {{ tone }}.{% endif %}"


def no_runs_recorded(factory: sessionmaker[Session]) -> bool:
    with factory() as session:
        return list_runs(session) == []


@pytest.fixture
def api(db_url: str) -> Iterator[TestClient]:
    settings = Settings(
        database_url=db_url,
        temporal_address="127.0.0.1:9",
        allowed_hosts="testserver",
        orch_admin_token=ADMIN_TOKEN,
    )
    with TestClient(create_app(settings), headers=AUTH) as client:
        yield client


@pytest.fixture
def helper(api: TestClient) -> TestClient:
    """Providers `p` (scripted) and `q` (with settings), an agent `helper` and a route to it."""
    r = api.post("/v1/providers", json={"name": "p", "kind": "scripted", "default_model": "m"})
    assert r.status_code == 201, r.text
    q = {
        "name": "q",
        "kind": "openai_compatible",
        "base_url": "http://localhost:4000/v1",
        "default_model": "small",
        "timeout_s": 20,
        "headers": {"X-Team": "${TEAM_ID}"},
        "prices": [{"model": "small", "input_usd_per_mtok": 0.1, "output_usd_per_mtok": 0.4}],
    }
    r = api.post("/v1/providers", json=q)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["timeout_s"], body["headers"]) == (20.0, {"X-Team": "${TEAM_ID}"})
    assert body["prices"] == [
        {
            "model": "small",
            "input_usd_per_mtok": 0.1,
            "output_usd_per_mtok": 0.4,
            "cached_input_usd_per_mtok": None,
        }
    ]
    agent = {
        "name": "helper",
        "provider": "p",
        "system_prompt": PROMPT,
        "prompt_variables": ["customer", "tone"],
        "fallbacks": [{"provider": "q"}],
        "max_cost_usd": 0.5,
        "output_schema": {"type": "object"},
    }
    r = api.post("/v1/agents", json=agent)
    assert r.status_code == 201, r.text
    assert api.post("/v1/routes", json={"key": "front", "agent": "helper"}).status_code == 201
    return api


def test_agent_reads_back_its_model_settings(helper: TestClient) -> None:
    body = helper.get("/v1/agents/helper").json()
    assert body["fallbacks"] == [{"provider": "q", "model": ""}]
    assert body["prompt_variables"] == ["customer", "tone"]
    assert (body["max_cost_usd"], body["max_total_tokens"], body["max_duration_s"]) == (
        0.5,
        None,
        None,
    )
    assert (body["model_timeout_s"], body["model_max_attempts"], body["max_output_repairs"]) == (
        60.0,
        10,
        2,
    )
    assert body["output_schema"] == {"type": "object"}
    assert body["approval_timeout_s"] == 3600.0
    r = helper.put("/v1/agents/helper", json={"provider": "p", "system_prompt": "plain"})
    assert (r.json()["version"], r.json()["fallbacks"], r.json()["output_schema"]) == (2, [], None)
    same = {"provider": "p", "system_prompt": "plain", "approval_timeout_s": 3600}
    assert helper.put("/v1/agents/helper", json=same).json()["version"] == 2
    r = helper.put("/v1/agents/helper", json={**same, "approval_timeout_s": 120.5})
    assert (r.json()["version"], r.json()["approval_timeout_s"]) == (3, 120.5)
    assert helper.get("/v1/agents/helper", params={"version": 2}).json()["approval_timeout_s"] == (
        3600.0
    )


def test_template_errors_are_422_saying_where(helper: TestClient) -> None:
    r = helper.post(
        "/v1/agents", json={"name": "b", "provider": "p", "system_prompt": "Hi.\n{% if x %}"}
    )
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert r.json()["error"] == "invalid_config"
    assert detail[0]["field"] == "system_prompt"
    assert detail[0]["message"].startswith("line 2: ")
    r = helper.put("/v1/agents/helper", json={"provider": "p", "system_prompt": "a\n\n{{ who }}"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "system_prompt"
    assert r.json()["detail"][0]["message"].startswith("line 3: unknown variable 'who'")
    assert helper.get("/v1/agents/helper").json()["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fallbacks": [{"provider": "q"}, {"provider": "zz"}]}, "fallbacks[1].provider"),
        ({"model_timeout_s": 0}, "model_timeout_s"),
        ({"approval_timeout_s": 0}, "approval_timeout_s"),
        ({"approval_timeout_s": 604801}, "approval_timeout_s"),
        ({"output_schema": {"type": "nope"}}, "output_schema"),
        ({"prompt_variables": ["agent"]}, "prompt_variables[0]"),
    ],
)
def test_agent_settings_422_name_the_field(
    helper: TestClient, body: dict[str, object], field: str
) -> None:
    r = helper.post("/v1/agents", json={"name": "b", "provider": "p", **body})
    assert (r.status_code, r.json()["detail"][0]["field"]) == (422, field)


def test_provider_settings_422_name_the_field(helper: TestClient) -> None:
    r = helper.put("/v1/providers/q", json={"kind": "openai", "headers": {"X-Api-Key": "x"}})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "headers.X-Api-Key"
    assert "api_key_env" in r.json()["detail"][0]["message"]
    r = helper.put("/v1/providers/q", json={"kind": "openai", "headers": {"X-A": 1}})
    assert (r.status_code, r.json()["error"]) == (422, "validation_error")
    assert r.json()["detail"][0]["field"] == "body.headers.X-A"
    r = helper.put("/v1/providers/q", json={"kind": "openai", "timeout_s": 0})
    assert r.json()["detail"][0]["field"] == "timeout_s"


def test_bad_variables_are_422_before_temporal(
    helper: TestClient, session_factory: sessionmaker[Session]
) -> None:
    r = helper.post(
        "/v1/runs",
        json={"agent": "helper", "input": "hi", "variables": {"customer": "Ann", "x": 1}},
    )
    assert r.status_code == 422
    assert r.json() == {
        "error": "invalid_config",
        "detail": [
            {
                "field": "variables.x",
                "message": "this agent declares no such variable (declared: customer, tone)",
            }
        ],
    }
    r = helper.post("/v1/routes/front/runs", json={"input": "hi", "variables": {"tone": "warm"}})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {"field": "variables.customer", "message": "required by the agent's prompt"}
    ]
    r = helper.post("/v1/runs", json={"agent": "helper", "input": "hi", "variables": []})
    assert (r.status_code, r.json()["detail"][0]["field"]) == (422, "body.variables")
    assert no_runs_recorded(session_factory)


def test_good_variables_reach_temporal(
    helper: TestClient, session_factory: sessionmaker[Session]
) -> None:
    """The control: with valid variables the request gets as far as Temporal (dead: 503)."""
    body = {"agent": "helper", "input": "hi", "variables": {"customer": "Ann"}}
    r = helper.post("/v1/runs", json=body)
    assert (r.status_code, r.json()["error"]) == (503, "temporal_unavailable")
    r = helper.post("/v1/routes/front/runs", json={"input": "hi", "variables": {"customer": "A"}})
    assert r.status_code == 503
    assert no_runs_recorded(session_factory)
