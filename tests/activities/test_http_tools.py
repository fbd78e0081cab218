"""The `http` (config-defined API) and `http_request` (generic) tool kinds against a real local
fake API, run through `execute_tool` (argument validation included) and, for redaction and
retries, through the `tool_call` activity with a real transcript store."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.tools import http_api, http_request
from activities.tools.activity import ToolActivities
from activities.tools.base import OutboundPolicy, ToolConfigError, ToolContext, ToolError
from activities.tools.net import BlockedDestination, UpstreamUnavailable, idempotency_key
from activities.tools.registry import execute_tool
from config_store.transcript import TranscriptStore
from tests.fakes.http_api_server import Canned, FakeHttpApiServer
from workflows.types import ToolCall, ToolCallInput, ToolSpec

TOKEN = "tok-SECRET-0123456789"
ENV = {"API_TOKEN": TOKEN, "TENANT": "acme"}


def context(*allow: str, run_id: str = "run-1", call_id: str = "call-1") -> ToolContext:
    return ToolContext(
        workspace_dir=Path("."),
        env=ENV,
        outbound=OutboundPolicy(allow_hosts=frozenset(allow or {"127.0.0.1"})),
        run_id=run_id,
        call_id=call_id,
        tool_name="t",
    )


def http_tool(config: dict[str, Any], **properties: Any) -> ToolSpec:
    parameters = {"type": "object", "properties": properties or {"id": {"type": "string"}}}
    return ToolSpec(name="t", kind="http", parameters=parameters, config=config)


REQUEST_TOOL = ToolSpec(name="fetch", kind="http_request")


# ----- kind `http` ----------------------------------------------------------------------------


async def test_an_api_call_fills_the_url_query_and_headers(api: FakeHttpApiServer) -> None:
    tool = http_tool(
        {
            "url": f"{api.base_url}/items/{{id}}",
            "headers": {"Authorization": "Bearer ${API_TOKEN}", "X-Tenant": "${TENANT}"},
            "query": {"q": "{q}", "limit": 5, "missing": "{absent}"},
        },
        id={"type": "string"},
        q={"type": "string"},
        absent={"type": "string"},
    )
    await execute_tool(tool, {"id": "a/b c", "q": "x&y=z"}, context())
    (seen,) = api.requests
    assert seen.raw_path == "/items/a%2Fb%20c"  # one path segment: the slash stayed encoded
    assert seen.query == {"q": "x&y=z", "limit": "5"}
    assert seen.headers["authorization"] == f"Bearer {TOKEN}" and seen.headers["x-tenant"] == "acme"
    assert seen.headers["idempotency-key"] == idempotency_key("run-1", "call-1")


async def test_the_idempotency_key_is_the_same_for_a_retried_call(api: FakeHttpApiServer) -> None:
    tool = http_tool({"method": "POST", "url": f"{api.base_url}/orders", "body": {"id": "{id}"}})
    await execute_tool(tool, {"id": "1"}, context(call_id="c7"))
    await execute_tool(tool, {"id": "1"}, context(call_id="c7"))
    await execute_tool(tool, {"id": "1"}, context(call_id="c8"))
    keys = [request.headers["idempotency-key"] for request in api.requests_to("/orders")]
    assert keys[0] == keys[1] != keys[2]


async def test_the_body_template_takes_json_values(api: FakeHttpApiServer) -> None:
    tool = http_tool(
        {
            "method": "post",
            "url": f"{api.base_url}/search",
            "body": {
                "query": "{q}",
                "size": "{n}",
                "tags": ["fixed", "{tag}"],
                "title": "About {q}: {n} hits",
                "nested": {"opt": "{absent}", "on": True},
            },
        },
        q={"type": "string"},
        n={"type": "integer"},
        tag={"type": "array"},
        absent={"type": "string"},
    )
    text = await execute_tool(tool, {"q": "cats", "n": 3, "tag": ["a", "b"]}, context())
    (seen,) = api.requests
    assert seen.method == "POST" and seen.headers["content-type"] == "application/json"
    assert seen.json == {
        "query": "cats",
        "size": 3,
        "tags": ["fixed", ["a", "b"]],
        "title": "About cats: 3 hits",
        "nested": {"on": True},
    }
    assert json.loads(text)["path"] == "/search"  # the echo, as compact JSON


async def test_a_missing_url_argument_is_for_the_model_to_fix(api: FakeHttpApiServer) -> None:
    tool = http_tool({"url": f"{api.base_url}/items/{{id}}"})
    with pytest.raises(ToolError, match="argument 'id' is needed for the URL"):
        await execute_tool(tool, {}, context())
    assert api.requests == []


async def test_the_response_pointer_picks_part_of_the_json(api: FakeHttpApiServer) -> None:
    api.answer("/weather", Canned(json={"current": {"temp": 21.5, "summary": "sunny"}}))
    base = {"url": f"{api.base_url}/weather"}
    assert await execute_tool(
        http_tool({**base, "response_pointer": "/current"}), {}, context()
    ) == ('{"temp":21.5,"summary":"sunny"}')
    summary = http_tool({**base, "response_pointer": "/current/summary"})
    assert await execute_tool(summary, {}, context()) == "sunny"
    with pytest.raises(ToolError, match="nothing at '/nope'"):
        await execute_tool(http_tool({**base, "response_pointer": "/nope"}), {}, context())


async def test_a_4xx_is_an_error_for_the_model_and_a_5xx_is_retried(api: FakeHttpApiServer) -> None:
    api.answer("/missing", Canned(status=404, json={"error": "no such item"}))
    api.answer("/down", Canned(status=503))
    with pytest.raises(ToolError, match='127.0.0.1 answered 404: {"error": "no such item"}'):
        await execute_tool(http_tool({"url": f"{api.base_url}/missing"}), {}, context())
    with pytest.raises(UpstreamUnavailable, match="answered 503"):
        await execute_tool(http_tool({"url": f"{api.base_url}/down"}), {}, context())


async def test_a_big_response_is_cut_with_a_marker(api: FakeHttpApiServer) -> None:
    api.answer("/big", Canned(text="y" * 10_000))
    tool = http_tool({"url": f"{api.base_url}/big", "max_response_bytes": 100})
    text = await execute_tool(tool, {}, context())
    assert text == "y" * 100 + "\n[response truncated at 100 bytes]"


async def test_an_api_key_header_is_not_sent_to_another_host(api: FakeHttpApiServer) -> None:
    api.answer("/start", Canned.redirect(f"http://localhost:{api.port}/landing"))
    tool = http_tool(
        {"url": f"{api.base_url}/start", "headers": {"X-Api-Key": "${API_TOKEN}", "X-Plain": "1"}}
    )
    await execute_tool(tool, {}, context("127.0.0.1", "localhost"))
    landing = api.requests_to("/landing")[0]
    assert "x-api-key" not in landing.headers and landing.headers["x-plain"] == "1"
    assert api.requests_to("/start")[0].headers["x-api-key"] == TOKEN


async def test_an_api_on_an_internal_address_is_refused(api: FakeHttpApiServer) -> None:
    for url in ("http://169.254.169.254/latest/meta-data/", f"{api.base_url}/x"):
        with pytest.raises(BlockedDestination, match="OUTBOUND_ALLOW_HOSTS"):
            await execute_tool(http_tool({"url": url}), {}, context("other.example.com"))
    assert api.requests == []


@pytest.mark.parametrize(
    ("config", "field", "problem"),
    [
        ({}, "url", "required"),
        ({"url": "https://x/", "verb": "GET"}, "verb", "unknown setting"),
        ({"url": "https://x/", "method": "TRACE"}, "method", "must be one of"),
        ({"url": "ftp://x/"}, "url", "http:// or https://"),
        ({"url": "https:///path"}, "url", "and a host"),
        ({"url": "https://{host}/x"}, "url", "scheme and host are fixed"),
        ({"url": "https://x/{ id }"}, "url", "placeholders are {name}"),
        (
            {"url": "https://x/", "headers": {"Authorization": "Bearer abc"}},
            "headers.Authorization",
            "${API_TOKEN}",
        ),
        (
            {"url": "https://x/", "headers": {"X-Api-Key": "abc123"}},
            "headers.X-Api-Key",
            "credential",
        ),
        ({"url": "https://x/", "headers": {"X-Id": "{id}"}}, "headers.X-Id", "not {arguments}"),
        ({"url": "https://x/", "headers": {"Host": "y"}}, "headers.Host", "set by the tool"),
        ({"url": "https://x/", "headers": ["a"]}, "headers", "mapping"),
        ({"url": "https://x/", "query": {"a": ["b"]}}, "query", "string, number or boolean"),
        ({"url": "https://x/", "body": {"a": 1}}, "body", "a GET request has no body"),
        ({"url": "https://x/", "method": "POST", "body": {"a": float("nan")}}, "body", "JSON"),
        ({"url": "https://x/", "max_response_bytes": 0}, "max_response_bytes", "1 to"),
        ({"url": "https://x/", "response_pointer": "a/b"}, "response_pointer", "JSON Pointer"),
    ],
)
def test_bad_api_configs_are_refused_when_saved(
    config: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(ToolConfigError) as refused:
        http_api.check_config(config)
    assert refused.value.field == field and problem in refused.value.message


def test_a_good_api_config_passes() -> None:
    http_api.check_config(
        {
            "method": "POST",
            "url": "https://api.example.com/v1/items/{id}?mode={mode}",
            "headers": {"Authorization": "Bearer ${API_TOKEN}", "Accept": "application/json"},
            "query": {"limit": 10, "verbose": True, "key": "${API_TOKEN}"},
            "body": {"name": "{name}", "n": 1, "list": [None, "{x}"]},
            "max_response_bytes": 50_000,
            "response_pointer": "",
        }
    )


# ----- kind `http_request` --------------------------------------------------------------------


async def test_a_generic_get(api: FakeHttpApiServer) -> None:
    arguments = {"url": f"{api.base_url}/page?x=1", "headers": {"Idempotency-Key": "mine"}}
    text = await execute_tool(REQUEST_TOOL, arguments, context())
    head, _, body = text.partition("\n\n")
    assert head == "HTTP 200\ncontent-type: application/json"
    echoed = json.loads(body)
    assert echoed["query"] == {"x": "1"}
    assert echoed["headers"]["idempotency-key"] == idempotency_key("run-1", "call-1")


async def test_only_the_configured_methods_are_allowed(api: FakeHttpApiServer) -> None:
    post = {"url": f"{api.base_url}/submit", "method": "post", "body": "hello"}
    with pytest.raises(ToolError, match=r"method POST is not allowed .*GET, HEAD"):
        await execute_tool(REQUEST_TOOL, post, context())
    assert api.requests == []
    writer = dataclasses.replace(REQUEST_TOOL, config={"methods": ["GET", "POST"]})
    await execute_tool(writer, post, context())
    assert api.requests[0].method == "POST" and api.requests[0].body == b"hello"
    with pytest.raises(ToolError, match="a GET request takes no body"):
        await execute_tool(writer, {"url": f"{api.base_url}/", "body": "x"}, context())


async def test_generic_results_for_errors_heads_and_binaries(api: FakeHttpApiServer) -> None:
    api.answer("/gone", Canned(status=410, text="gone for good"))
    api.answer("/image", Canned(body=bytes(range(256)), headers={"content-type": "image/png"}))
    with pytest.raises(ToolError, match=r"GET .*/gone answered 410: gone for good"):
        await execute_tool(REQUEST_TOOL, {"url": f"{api.base_url}/gone"}, context())
    head = await execute_tool(
        REQUEST_TOOL, {"url": f"{api.base_url}/", "method": "HEAD"}, context()
    )
    assert head.endswith("(empty response, HTTP 200)")
    image = await execute_tool(REQUEST_TOOL, {"url": f"{api.base_url}/image"}, context())
    assert image.endswith("(binary content image/png, 256 bytes, not shown)")


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:{port}/",
        "http://localhost:{port}/",
        "http://[::1]:{port}/",
        "http://2130706433:{port}/",
    ],
)
async def test_the_model_cannot_reach_internal_addresses(api: FakeHttpApiServer, url: str) -> None:
    ctx = dataclasses.replace(context(), outbound=OutboundPolicy())
    with pytest.raises(BlockedDestination):
        await execute_tool(REQUEST_TOOL, {"url": url.format(port=api.port)}, ctx)
    assert api.requests == []


def test_generic_config_is_checked() -> None:
    http_request.check_config({"methods": ["get", "POST"], "max_response_bytes": 10})
    for config, field in [
        ({"methods": []}, "methods"),
        ({"methods": ["CONNECT"]}, "methods"),
        ({"methods": "GET"}, "methods"),
        ({"max_response_bytes": True}, "max_response_bytes"),
        ({"allow": ["x"]}, "allow"),
    ]:
        with pytest.raises(ToolConfigError) as refused:
            http_request.check_config(config)
        assert refused.value.field == field


# ----- through the tool activity --------------------------------------------------------------


@pytest.fixture
def store(session_factory: sessionmaker[Session]) -> TranscriptStore:
    return TranscriptStore(session_factory)


def activity_call(tool: ToolSpec, run_id: str, seq: int = 2) -> ToolCallInput:
    return ToolCallInput(
        run_id=run_id, seq=seq, step=1, call=ToolCall(id="c1", name=tool.name), tool=tool
    )


async def test_secrets_an_api_echoes_are_redacted(
    api: FakeHttpApiServer, store: TranscriptStore
) -> None:
    api.answer("/denied", Canned(status=403, echo=True))
    headers = {"Authorization": "Bearer ${SECRET_TOKEN}"}
    ctx = dataclasses.replace(context(), env={"SECRET_TOKEN": TOKEN})
    tools = ToolActivities(store, ctx)
    ok = http_tool({"url": f"{api.base_url}/echo", "headers": headers})
    denied = http_tool({"url": f"{api.base_url}/denied", "headers": headers})
    outcome = await ActivityEnvironment().run(tools.tool_call, activity_call(ok, "r-red"))
    refused = await ActivityEnvironment().run(tools.tool_call, activity_call(denied, "r-red", 3))
    assert api.requests_to("/echo")[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert outcome.ok and "Bearer [redacted]" in outcome.preview
    assert not refused.ok and refused.error is not None and "answered 403" in refused.error
    assert "Bearer [redacted]" in refused.error
    for seq in (2, 3):
        stored = store.get("r-red", seq)
        assert stored is not None and "[redacted]" in json.dumps(stored)
        assert TOKEN not in json.dumps(stored)
    assert TOKEN not in outcome.preview + refused.error


async def test_a_retried_activity_sends_the_same_idempotency_key(
    api: FakeHttpApiServer, store: TranscriptStore
) -> None:
    api.queue("/pay", Canned(status=503))
    tool = dataclasses.replace(
        http_tool({"method": "POST", "url": f"{api.base_url}/pay", "body": {"amount": 5}}),
        retry_attempts=3,
    )
    tools = ToolActivities(store, context())
    env = ActivityEnvironment()
    with pytest.raises(UpstreamUnavailable):
        await env.run(tools.tool_call, activity_call(tool, "r-pay"))
    env.info = dataclasses.replace(env.info, attempt=2)
    outcome = await env.run(tools.tool_call, activity_call(tool, "r-pay"))
    assert outcome.ok
    first, second = api.requests_to("/pay")
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.headers["idempotency-key"] == idempotency_key("r-pay", "c1")


async def test_retry_after_sets_the_next_attempts_delay(
    api: FakeHttpApiServer, store: TranscriptStore
) -> None:
    api.queue("/busy", Canned(status=429, headers={"Retry-After": "7"}))
    tool = dataclasses.replace(http_tool({"url": f"{api.base_url}/busy"}), retry_attempts=3)
    tools = ToolActivities(store, context())
    with pytest.raises(ApplicationError) as retried:
        await ActivityEnvironment().run(tools.tool_call, activity_call(tool, "r-busy"))
    assert retried.value.type == "UpstreamUnavailable" and not retried.value.non_retryable
    assert retried.value.next_retry_delay == timedelta(seconds=7)
