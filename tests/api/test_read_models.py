"""The API's answers are the input shapes plus what the server adds, read from the rows by
name (`from_attributes`): every input field comes back as it went in, and the schema marks
every field required (the answer always carries it)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.schemas import AgentRead, McpServerRead, ProviderRead, RouteRead, ToolRead
from config_store import mcp_servers
from config_store.mcp_servers import McpServerIn
from config_store.specs import AgentIn, ProviderIn, RouteIn, ToolIn

READS: list[tuple[type[BaseModel], type[BaseModel]]] = [
    (ProviderRead, ProviderIn),
    (ToolRead, ToolIn),
    (AgentRead, AgentIn),
    (RouteRead, RouteIn),
    (McpServerRead, McpServerIn),
]


@pytest.mark.parametrize(("read", "shape"), READS)
def test_a_read_model_is_its_input_shape_and_more(
    read: type[BaseModel], shape: type[BaseModel]
) -> None:
    assert issubclass(read, shape)
    schema = read.model_json_schema(mode="serialization")
    assert "additionalProperties" not in schema
    optional = {"discovery"} if read is McpServerRead else set()
    assert set(schema["required"]) == set(read.model_fields) - optional


AGENT: dict[str, Any] = {  # every field set, none to its default
    "description": "adds up",
    "provider": "p",
    "model": "m1",
    "system_prompt": "hello {{who}}",
    "tools": ["calc"],
    "max_steps": 7,
    "temperature": 0.5,
    "script": [{"text": "t", "tool_calls": [{"name": "calc", "arguments": {"x": 1}, "id": "c"}]}],
    "fallbacks": [{"provider": "q", "model": "m2"}],
    "max_total_tokens": 1000,
    "max_cost_usd": 0.5,
    "max_duration_s": 30.0,
    "model_timeout_s": 20.0,
    "model_max_attempts": 4,
    "output_schema": {"type": "object"},
    "max_output_repairs": 1,
    "approval_timeout_s": 60.0,
    "prompt_variables": ["who"],
    "on_tool_error": "fail",
}
PROVIDER: dict[str, Any] = {
    "kind": "openai_compatible",
    "base_url": "http://x/v1",
    "api_key_env": "K",
    "default_model": "m",
    "timeout_s": 5.0,
    "headers": {"X-A": "1"},
    "prices": [
        {
            "model": "m",
            "input_usd_per_mtok": 1.0,
            "output_usd_per_mtok": 2.0,
            "cached_input_usd_per_mtok": 0.5,
        }
    ],
}
TOOL: dict[str, Any] = {
    "kind": "read_file",
    "description": "d",
    "parameters": {"type": "object"},
    "config": {},
    "timeout_s": 3.0,
    "retry_attempts": 2,
    "requires_approval": True,
    "max_result_chars": 500,
    "idempotent": False,  # not the kind's default
    "on_unknown_outcome": "ask",  # not the default
}


def _created(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, json=body)
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_every_field_comes_back(basics: TestClient) -> None:
    """Each answer holds the input as it went in, then what the server adds."""
    c = basics
    for shape, path, body in (
        (ProviderIn, "/v1/providers", PROVIDER),
        (ToolIn, "/v1/tools", TOOL),
    ):
        assert set(body) == set(shape.model_fields)
        answer = _created(c, path, {"name": "q", **body})
        assert list(answer) == ["name", *body, "created_at", "updated_at"]
        assert answer == {**answer, "name": "q", **body}

    assert set(AGENT) == set(AgentIn.model_fields)
    answer = _created(c, "/v1/agents", {"name": "a", **AGENT})
    assert answer == {**answer, "name": "a", **AGENT, "version": 1, "current_version": 1}
    assert list(answer)[:4] == ["name", "description", "version", "current_version"]
    assert list(answer)[-2:] == ["created_at", "updated_at"]
    changed = c.put("/v1/agents/a", json={**AGENT, "description": "now"}).json()
    assert changed == {**answer, "description": "now", "updated_at": changed["updated_at"]}

    route = _created(c, "/v1/routes", {"key": "r", "agent": "a", "description": "d"})
    assert list(route) == ["key", "agent", "description", "created_at", "updated_at"]
    assert route == {**route, "key": "r", "agent": "a", "description": "d"}


def test_a_server_comes_back_as_it_went_in(session: Session) -> None:
    server = McpServerIn(transport="http", url="http://x/mcp", headers={"X": "y"}, timeout_s=2.0)
    read = McpServerRead.of(mcp_servers.create_server(session, "srv", server))
    assert read.model_dump(include=set(McpServerIn.model_fields)) == server.model_dump()
    assert (read.name, read.tools, read.discovery) == ("srv", [], None)
