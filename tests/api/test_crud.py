from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/providers", "/v1/tools", "/v1/agents/{name}/versions", "/v1/routes/{key}"} <= set(
        paths
    )


def test_provider_round_trip(client: TestClient) -> None:
    body = {"name": "openai", "kind": "openai", "api_key_env": "OPENAI_API_KEY"}
    created = client.post("/v1/providers", json=body)
    assert created.status_code == 201
    assert created.json()["api_key_env"] == "OPENAI_API_KEY"
    assert client.get("/v1/providers/openai").json() == created.json()
    assert [p["name"] for p in client.get("/v1/providers").json()] == ["openai"]
    updated = client.put("/v1/providers/openai", json={"kind": "openai", "default_model": "g"})
    assert updated.status_code == 200
    assert (updated.json()["default_model"], updated.json()["api_key_env"]) == ("g", None)
    assert client.delete("/v1/providers/openai").status_code == 204
    assert client.get("/v1/providers/openai").status_code == 404


def test_tool_round_trip(client: TestClient) -> None:
    params = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
    r = client.post(
        "/v1/tools",
        json={"name": "read_file", "kind": "read_file", "parameters": params, "timeout_s": 3},
    )
    assert r.status_code == 201, r.text
    assert r.json()["parameters"] == params
    r = client.put(
        "/v1/tools/read_file",
        json={"kind": "read_file", "parameters": params, "requires_approval": True},
    )
    assert (r.json()["requires_approval"], r.json()["timeout_s"]) == (True, 30.0)
    assert client.get("/v1/tools").json()[0]["name"] == "read_file"
    assert client.delete("/v1/tools/read_file").status_code == 204
    assert client.get("/v1/tools").json() == []


def test_on_unknown_outcome_is_report_unless_asked_and_a_closed_set(client: TestClient) -> None:
    post = {"kind": "http", "config": {"url": "https://x.example/a", "method": "POST"}}
    r = client.post("/v1/tools", json={"name": "post", **post})
    assert r.status_code == 201, r.text
    assert (r.json()["idempotent"], r.json()["on_unknown_outcome"]) == (False, "report")
    r = client.put("/v1/tools/post", json={**post, "on_unknown_outcome": "ask"})
    assert r.status_code == 200 and r.json()["on_unknown_outcome"] == "ask"
    assert client.get("/v1/tools/post").json()["on_unknown_outcome"] == "ask"
    r = client.put("/v1/tools/post", json={**post, "on_unknown_outcome": "retry"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "body.on_unknown_outcome"
    assert client.get("/v1/tools/post").json()["on_unknown_outcome"] == "ask"


ASK_USER_PARAMETERS = {
    "type": "object",
    "properties": {"question": {"type": "string", "description": "the question to ask"}},
    "required": ["question"],
    "additionalProperties": False,
}


def test_ask_user_tool_gets_its_kind_schema(basics: TestClient) -> None:
    client = basics
    r = client.post("/v1/tools", json={"name": "ask_user", "kind": "ask_user"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["kind"], body["parameters"]) == ("ask_user", ASK_USER_PARAMETERS)
    assert body["description"] == (
        "Ask the person running the agent a question and wait for the answer."
    )
    assert client.get("/v1/tools/ask_user").json() == body
    r = client.post("/v1/agents", json={"name": "a", "provider": "p", "tools": ["ask_user"]})
    assert (r.status_code, r.json()["tools"]) == (201, ["ask_user"])
    r = client.post("/v1/tools", json={"name": "ask2", "kind": "ask"})
    assert (r.status_code, r.json()["detail"][0]["field"]) == (422, "body.kind")


def test_agent_versions(basics: TestClient) -> None:
    client = basics
    body = {"name": "a", "provider": "p", "tools": ["calc"], "system_prompt": "one"}
    r = client.post("/v1/agents", json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["model"]) == (1, "")

    update = {"provider": "p", "tools": ["calc"], "system_prompt": "two"}
    r = client.put("/v1/agents/a", json=update)
    assert (r.json()["version"], r.json()["current_version"]) == (2, 2)
    # Same content again: no new version.
    assert client.put("/v1/agents/a", json=update).json()["version"] == 2

    assert client.get("/v1/agents/a").json()["system_prompt"] == "two"
    v1 = client.get("/v1/agents/a", params={"version": 1}).json()
    assert (v1["version"], v1["current_version"], v1["system_prompt"]) == (1, 2, "one")
    versions = client.get("/v1/agents/a/versions").json()
    assert [v["version"] for v in versions] == [1, 2]
    assert [a["name"] for a in client.get("/v1/agents").json()] == ["a"]
    assert client.get("/v1/agents/a", params={"version": 3}).status_code == 404


def test_agent_script_round_trip(basics: TestClient) -> None:
    script = [{"text": "", "tool_calls": [{"name": "calc", "arguments": {"expression": "1+1"}}]}]
    r = basics.post("/v1/agents", json={"name": "s", "provider": "p", "script": script})
    assert r.status_code == 201, r.text
    assert r.json()["script"] == [
        {
            "text": "",
            "tool_calls": [{"name": "calc", "arguments": {"expression": "1+1"}, "id": None}],
        }
    ]


def test_route_round_trip(basics: TestClient) -> None:
    client = basics
    client.post("/v1/agents", json={"name": "a", "provider": "p"})
    client.post("/v1/agents", json={"name": "b", "provider": "p"})
    r = client.post("/v1/routes", json={"key": "front", "agent": "a"})
    assert r.status_code == 201, r.text
    assert client.put("/v1/routes/front", json={"agent": "b"}).json()["agent"] == "b"
    assert [x["key"] for x in client.get("/v1/routes").json()] == ["front"]
    assert client.get("/v1/routes/front").json()["agent"] == "b"
    assert client.delete("/v1/routes/front").status_code == 204
    assert client.get("/v1/routes/front").status_code == 404


# What a diff between two versions compares: every field a version is written from.
VERSIONED = {
    "provider": "p",
    "model": "m2",
    "system_prompt": "Hello {{who}}",
    "tools": ["calc"],
    "max_steps": 7,
    "temperature": 0.5,
    "script": [{"text": "hi", "tool_calls": []}],
    "fallbacks": [],
    "max_total_tokens": 1000,
    "max_cost_usd": 0.5,
    "max_duration_s": 60.0,
    "model_timeout_s": 30.0,
    "model_max_attempts": 3,
    "output_schema": {"type": "object"},
    "max_output_repairs": 1,
    "approval_timeout_s": 120.0,
    "prompt_variables": ["who"],
    "on_tool_error": "fail",
}


def test_versions_list_every_field_a_diff_needs(basics: TestClient) -> None:
    r = basics.post("/v1/agents", json={"name": "a", **VERSIONED, "description": "d"})
    assert r.status_code == 201, r.text
    basics.put("/v1/agents/a", json={**VERSIONED, "max_steps": 8, "description": "d"})
    v1, v2 = basics.get("/v1/agents/a/versions").json()
    from config_store.specs import AgentIn

    assert set(AgentIn.model_fields) <= set(v1)  # every field a version is written from
    assert {k: v1[k] for k in VERSIONED} == VERSIONED
    assert {k for k in VERSIONED if v1[k] != v2[k]} == {"max_steps"}
    assert (v1["version"], v2["version"], v1["created_at"] <= v2["created_at"]) == (1, 2, True)


def test_rollback_writes_a_new_version_equal_to_an_old_one(basics: TestClient) -> None:
    client = basics
    client.post("/v1/agents", json={"name": "a", "provider": "p", "system_prompt": "one"})
    client.put("/v1/agents/a", json={"provider": "p", "system_prompt": "two", "max_steps": 3})
    r = client.post("/v1/agents/a/rollback", json={"version": 1})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["version"], body["current_version"], body["system_prompt"]) == (3, 3, "one")
    v1, v2, v3 = client.get("/v1/agents/a/versions").json()
    differs = {"version", "current_version", "created_at", "updated_at"}
    assert {k: v for k, v in v1.items() if k not in differs} == {
        k: v for k, v in v3.items() if k not in differs
    }
    assert v2["system_prompt"] == "two"
    assert client.get("/v1/agents/a").json()["version"] == 3


def test_rollback_of_an_unknown_agent_or_version_is_a_404(basics: TestClient) -> None:
    basics.post("/v1/agents", json={"name": "a", "provider": "p"})
    for path, version in (("/v1/agents/ghost/rollback", 1), ("/v1/agents/a/rollback", 9)):
        r = basics.post(path, json={"version": version})
        assert (r.status_code, r.json()["error"]) == (404, "not_found"), path
    r = basics.post("/v1/agents/a/rollback", json={"version": 0})
    assert (r.status_code, r.json()["detail"][0]["field"]) == (422, "body.version")


def test_rollback_to_a_version_whose_tool_is_gone_is_a_422(basics: TestClient) -> None:
    basics.post("/v1/agents", json={"name": "a", "provider": "p", "tools": ["calc"]})
    basics.put("/v1/agents/a", json={"provider": "p", "tools": []})
    assert basics.delete("/v1/tools/calc").status_code == 204
    r = basics.post("/v1/agents/a/rollback", json={"version": 1})
    assert (r.status_code, r.json()["error"]) == (422, "invalid_config")
    assert r.json()["detail"][0]["field"] == "tools[0]"
