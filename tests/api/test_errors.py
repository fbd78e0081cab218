from __future__ import annotations

from fastapi.testclient import TestClient


def test_malformed_body_names_the_field(basics: TestClient) -> None:
    r = basics.post("/v1/agents", json={"name": "a", "max_steps": "many", "colour": "red"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation_error"
    fields = {d["field"] for d in body["detail"]}
    assert fields == {"body.provider", "body.max_steps", "body.colour"}
    assert all(d["message"] for d in body["detail"])


def test_invalid_json_is_a_validation_error(client: TestClient) -> None:
    r = client.post(
        "/v1/providers", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["error"] == "validation_error"


def test_invalid_config_names_the_field(basics: TestClient) -> None:
    r = basics.post("/v1/agents", json={"name": "a", "provider": "p", "tools": ["calc", "x"]})
    assert r.status_code == 422
    assert r.json() == {
        "error": "invalid_config",
        "detail": [{"field": "tools[1]", "message": "no tool named 'x'"}],
    }
    r = basics.post("/v1/agents", json={"name": "a", "provider": "nope"})
    assert r.json()["detail"][0]["field"] == "provider"
    r = basics.post(
        "/v1/tools", json={"name": "t", "kind": "calculator", "parameters": {"type": 1}}
    )
    assert (r.status_code, r.json()["detail"][0]["field"]) == (422, "parameters")


def test_unknown_things_are_404_json(client: TestClient) -> None:
    r = client.get("/v1/agents/ghost")
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "detail": "no agent named 'ghost'"}
    r = client.get("/v1/nowhere")
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    r = client.patch("/v1/agents")
    assert (r.status_code, r.json()["error"]) == (405, "method_not_allowed")


def test_conflicts_are_409(basics: TestClient) -> None:
    client = basics
    r = client.post("/v1/providers", json={"name": "p", "kind": "scripted"})
    assert (r.status_code, r.json()["error"]) == (409, "conflict")
    client.post("/v1/agents", json={"name": "a", "provider": "p", "tools": ["calc"]})
    assert client.delete("/v1/providers/p").status_code == 409
    assert client.delete("/v1/tools/calc").status_code == 409
    client.post("/v1/routes", json={"key": "r", "agent": "a"})
    assert client.delete("/v1/agents/a").status_code == 409
    assert client.post("/v1/routes", json={"key": "r", "agent": "a"}).status_code == 409
    # The failed requests rolled back cleanly; deleting in order works.
    assert client.delete("/v1/routes/r").status_code == 204
    assert client.delete("/v1/agents/a").status_code == 204
    assert client.delete("/v1/providers/p").status_code == 204
