"""Every request the SDK makes, once: the sync and the async client send these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from orch.client import _kinds
from orch.client._wire import Call, model, nothing, path, validated
from orch.client.errors import OrchApiError
from orch.client.models import (
    ApprovalOutcome,
    CancelAnswer,
    ConfigKind,
    InputOutcome,
    RunPage,
    RunStarted,
    RunView,
    Thread,
    TokenCreated,
    TokenRead,
    WhoAmI,
)
from workflows.kinds import TokenScope

Body = Mapping[str, Any] | BaseModel


def _run_body(input: str, variables: Mapping[str, Any] | None, tokens: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"input": input, "tokens": tokens}
    if variables:
        body["variables"] = dict(variables)
    return body


def start_run(
    agent: str,
    input: str,
    variables: Mapping[str, Any] | None,
    tokens: bool,
    thread: str | None,
) -> Call[RunStarted]:
    body = {"agent": agent, **_run_body(input, variables, tokens)}
    where = path("v1", "threads", thread, "runs") if thread is not None else "/v1/runs"
    return Call("POST", where, model(RunStarted), body=body)


def start_route_run(
    key: str, input: str, variables: Mapping[str, Any] | None, tokens: bool
) -> Call[RunStarted]:
    body = _run_body(input, variables, tokens)
    return Call("POST", path("v1", "routes", key, "runs"), model(RunStarted), body=body)


def get_run(run_id: str) -> Call[RunView]:
    return Call("GET", path("v1", "runs", run_id), model(RunView))


def list_runs(
    agent: str | None, status: str | None, limit: int, page_token: str | None
) -> Call[RunPage]:
    params: dict[str, str | int] = {"limit": limit}
    if agent is not None:
        params["agent"] = agent
    if status is not None:
        params["status"] = status
    if page_token is not None:
        params["page_token"] = page_token
    return Call("GET", "/v1/runs", model(RunPage), params=params)


def cancel(run_id: str) -> Call[CancelAnswer]:
    return Call("POST", path("v1", "runs", run_id, "cancel"), model(CancelAnswer))


def decide(run_id: str, call_id: str, approve: bool, reason: str, by: str) -> Call[ApprovalOutcome]:
    body = {"decision": "approve" if approve else "reject", "reason": reason, "by": by}
    where = path("v1", "runs", run_id, "approvals", call_id)
    return Call("POST", where, model(ApprovalOutcome), body=body)


def answer(run_id: str, text: str, call_id: str | None) -> Call[InputOutcome]:
    body: dict[str, Any] = {"text": text}
    if call_id is not None:
        body["call_id"] = call_id
    return Call("POST", path("v1", "runs", run_id, "input"), model(InputOutcome), body=body)


def get_thread(thread_id: str) -> Call[Thread]:
    return Call("GET", path("v1", "threads", thread_id), model(Thread))


def whoami() -> Call[WhoAmI]:
    return Call("GET", "/v1/whoami", model(WhoAmI))


def create_token(name: str, scope: TokenScope) -> Call[TokenCreated]:
    body = {"name": name, "scope": scope}
    return Call("POST", "/v1/tokens", model(TokenCreated), body=body)


def list_tokens() -> Call[list[TokenRead]]:
    return Call("GET", "/v1/tokens", model(list[TokenRead]))


def revoke_token(token_id: str) -> Call[None]:
    return Call("DELETE", path("v1", "tokens", token_id), nothing)


# Config: the answers are the API's Read models (typed by the resources that send these).


def config_list(name: ConfigKind) -> Call[Any]:
    kind = _kinds.kind(name)
    return Call("GET", kind.path, model(list[kind.read]))  # type: ignore[name-defined]


def config_get(
    name: ConfigKind, key: str, params: Mapping[str, str | int] | None = None
) -> Call[Any]:
    kind = _kinds.kind(name)
    return Call("GET", f"{kind.path}{path(key)}", model(kind.read), params=params)


def config_create(name: ConfigKind, body: Body) -> Call[Any]:
    kind = _kinds.kind(name)
    return Call("POST", kind.path, model(kind.read), body=validated(kind.create, body))


def update_body(name: ConfigKind, key: str, body: Body) -> dict[str, Any]:
    """A PUT body: the whole definition but its name (which the path carries)."""
    kind = _kinds.kind(name)
    fields = (
        dict(body.model_dump(mode="json", exclude_unset=True))
        if isinstance(body, BaseModel)
        else dict(body)
    )
    named = fields.pop(kind.key, key)
    if named != key:
        message = f"the body names {named!r}, the call {key!r}"
        raise OrchApiError(422, "validation_error", message, field=f"body.{kind.key}", local=True)
    return validated(kind.update, fields)


def config_update(name: ConfigKind, key: str, body: Body) -> Call[Any]:
    kind = _kinds.kind(name)
    put = update_body(name, key, body)
    return Call("PUT", f"{kind.path}{path(key)}", model(kind.read), body=put)


def config_delete(name: ConfigKind, key: str) -> Call[None]:
    kind = _kinds.kind(name)
    return Call("DELETE", f"{kind.path}{path(key)}", nothing)


def key_of(name: ConfigKind, body: Body) -> str:
    """The name (a route's key) a body gives, for apply()."""
    kind = _kinds.kind(name)
    fields = body.model_dump() if isinstance(body, BaseModel) else body
    key = fields.get(kind.key)
    if not isinstance(key, str) or not key:
        message = f"apply needs the {kind.name}'s {kind.key!r} in the body"
        raise OrchApiError(422, "validation_error", message, field=f"body.{kind.key}", local=True)
    return key


def agent_versions(name: str) -> Call[Any]:
    kind = _kinds.kind("agent")
    return Call("GET", path("v1", "agents", name, "versions"), model(list[kind.read]))  # type: ignore[name-defined]


def agent_rollback(name: str, version: int) -> Call[Any]:
    kind = _kinds.kind("agent")
    body = {"version": version}
    return Call("POST", path("v1", "agents", name, "rollback"), model(kind.read), body=body)


def mcp_discover(name: str) -> Call[Any]:
    kind = _kinds.kind("mcp_server")
    return Call("POST", path("v1", "mcp-servers", name, "discover"), model(kind.read))
