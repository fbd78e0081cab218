"""Kind `http_request`: a generic HTTP request the model shapes itself (URL, method, headers, body).

Everything it can reach goes through the outbound guard (activities/tools/net.py): no internal
addresses unless OUTBOUND_ALLOW_HOSTS names the host, capped size and time. Only the methods the
tool's config lists are allowed, by default the read-only GET and HEAD, so attaching this tool
does not by itself let a model change anything. Each call carries an `Idempotency-Key` derived
from the run and the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.tools import net
from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from workflows import tool_parameters

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_METHODS = ("GET", "HEAD")
KEYS = ("methods", "max_response_bytes")
MAX_MAX_RESPONSE_BYTES = 100_000_000
IDEMPOTENCY = "idempotency-key"
TEXT_MEDIA = ("json", "xml", "javascript", "yaml", "csv", "x-www-form-urlencoded")

PARAMETERS = tool_parameters.HTTP_REQUEST


def settings(config: Mapping[str, Any]) -> tuple[tuple[str, ...], int | None]:
    """(allowed methods, max response bytes or None for the worker's cap)."""
    for key in config:
        if key not in KEYS:
            raise ToolConfigError(str(key), f"unknown setting; expected one of {', '.join(KEYS)}")
    methods = config.get("methods", list(DEFAULT_METHODS))
    if (
        not isinstance(methods, list)
        or not methods
        or not all(isinstance(m, str) and m.upper() in METHODS for m in methods)
    ):
        raise ToolConfigError("methods", f"a non-empty list drawn from {', '.join(METHODS)}")
    size = config.get("max_response_bytes")
    if size is not None and (
        isinstance(size, bool)
        or not isinstance(size, int)
        or not 1 <= size <= MAX_MAX_RESPONSE_BYTES
    ):
        raise ToolConfigError(
            "max_response_bytes", f"a whole number, 1 to {MAX_MAX_RESPONSE_BYTES}"
        )
    return tuple(m.upper() for m in methods), size


def check_config(config: Mapping[str, Any]) -> None:
    settings(config)


def media_type(result: net.HttpResult) -> str:
    return result.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def is_json(result: net.HttpResult) -> bool:
    media = media_type(result)
    return media == "application/json" or media.endswith("+json")


def is_text(result: net.HttpResult) -> bool:
    """Whether the body is worth showing as text: a textual media type, or with none declared,
    valid UTF-8 (allowing a character cut in half at the size cap)."""
    media = media_type(result)
    if media:
        return media.startswith("text/") or any(word in media for word in TEXT_MEDIA)
    sample = result.body[:-3] if result.truncated else result.body
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def body_text(result: net.HttpResult) -> str:
    """The body as text for the model: a marker when it was cut, a note when it is binary."""
    if not result.body:
        return f"(empty response, HTTP {result.status})"
    if not is_text(result):
        kind = result.headers.get("content-type", "of unknown type")
        return f"(binary content {kind}, {len(result.body)} bytes, not shown)"
    text = result.text()
    if result.truncated:
        text += f"\n[response truncated at {len(result.body)} bytes]"
    return text


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    try:
        methods, max_bytes = settings(config)
    except ToolConfigError as err:
        raise ToolError(f"tool {ctx.tool_name!r} is misconfigured: {err}") from err
    method = str(arguments.get("method") or "GET").upper()
    if method not in methods:
        raise ToolError(
            f"method {method} is not allowed by this tool (allowed: {', '.join(methods)})"
        )
    body = arguments.get("body")
    if body is not None and method in ("GET", "HEAD"):
        raise ToolError(f"a {method} request takes no body")
    given = arguments.get("headers") or {}
    headers = {name: str(value) for name, value in given.items() if name.lower() != IDEMPOTENCY}
    headers["Idempotency-Key"] = net.idempotency_key(ctx.run_id, ctx.call_id)
    result = await net.fetch(
        ctx,
        method,
        str(arguments["url"]),
        headers=headers,
        content=None if body is None else str(body).encode(),
        max_bytes=max_bytes,
    )
    net.check_status(result, f"{method} {result.url}")
    content_type = result.headers.get("content-type", "(none)")
    return f"HTTP {result.status}\ncontent-type: {content_type}\n\n{body_text(result)}"


KIND = ToolImplementation(
    kind="http_request",
    run=run,
    description=(
        "Make an HTTP request to a public URL and return the status, content type and body. "
        "Internal and private addresses are refused."
    ),
    parameters=PARAMETERS,
    check_config=check_config,
)
