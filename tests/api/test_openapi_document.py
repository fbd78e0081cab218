"""The OpenAPI document declares the error answers the API really sends (no schemathesis: the
document only; tests/api/test_openapi_conformance.py checks it against the running API)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings

STATE_CHANGING = {"post", "put", "patch", "delete"}
ERROR = "#/components/schemas/ErrorBody"
INVALID = "#/components/schemas/ValidationErrorBody"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://", allowed_hosts="testserver"))
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def schema_ref(response: dict[str, Any]) -> str:
    ref: str = response["content"]["application/json"]["schema"]["$ref"]
    return ref


def test_fastapis_validation_error_shape_is_gone(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert '#/components/schemas/ValidationError"' not in text
    assert {"ErrorBody", "ValidationErrorBody", "FieldError"} <= set(
        document["components"]["schemas"]
    )


def test_the_error_bodies_are_the_ones_the_handlers_send(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ErrorBody"]["required"] == ["error", "detail"]
    assert schemas["ValidationErrorBody"]["properties"]["error"]["enum"] == [
        "validation_error",
        "invalid_config",
    ]
    assert schemas["FieldError"]["required"] == ["field", "message"]


def test_every_422_is_the_validation_error_body(document: dict[str, Any]) -> None:
    seen = 0
    for method, path, operation in operations(document):
        if "422" in operation["responses"]:
            seen += 1
            assert schema_ref(operation["responses"]["422"]) == INVALID, (method, path)
        if "requestBody" in operation:
            assert "422" in operation["responses"], (method, path)
    assert seen >= 15


def test_every_other_error_is_the_error_body(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) and status != "422" and path != "/readyz":
                assert schema_ref(response) == ERROR, (method, path, status)


def test_guards_and_limits_are_declared_where_they_apply(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        responses = operation["responses"]
        assert "400" in responses, (method, path)  # bad_host: every request
        if method in STATE_CHANGING:
            assert {"403", "415"} <= set(responses), (method, path)
            assert "forbidden_origin" in responses["403"]["description"]
        else:
            assert "415" not in responses, (method, path)
        assert ("413" in responses) == ("requestBody" in operation), (method, path)


def test_operations_with_nothing_to_validate_declare_no_422(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "422" not in paths["/v1/agents/{name}/versions"]["get"]["responses"]
    assert "422" not in paths["/v1/runs/{run_id}"]["get"]["responses"]
    assert "422" in paths["/v1/agents/{name}"]["get"]["responses"]  # ?version=


def test_temporal_answers_only_where_temporal_is_called(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        talks_to_temporal = "/runs" in path
        responses = operation["responses"]
        assert ("503" in responses) == (talks_to_temporal or path == "/readyz"), (method, path)
        assert ("502" in responses) == talks_to_temporal, (method, path)


def test_list_runs_parameters_say_what_is_accepted(document: dict[str, Any]) -> None:
    parameters = {
        p["name"]: p["schema"] for p in document["paths"]["/v1/runs"]["get"]["parameters"]
    }
    agent = parameters["agent"]["anyOf"][0]
    assert agent["pattern"].startswith("^[a-z0-9]")
    status = parameters["status"]["anyOf"][0]
    assert status["enum"] == [
        "running",
        "completed",
        "failed",
        "cancelled",
        "terminated",
        "timed_out",
    ]
    assert parameters["page_token"]["anyOf"][0]["minLength"] == 1
