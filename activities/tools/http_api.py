"""Kind `http`: an HTTP API call defined in config, its arguments filled into templates.

The operator fixes the method, the scheme and host, the headers (credentials only as `${VAR}`
references to the worker's environment, so they are never stored and are redacted from results)
and the shape of the request; the model supplies only the arguments, which are URL-encoded into the
path and query and placed as JSON values into the body. Every call carries an `Idempotency-Key`
derived from the run and the call, the same on every retry of that call, so the API can tell a
retry from a new request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from activities.tools import net
from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from activities.tools.http_request import body_text, is_json
from activities.tools.secrets import ENV_REFERENCE, substitute_env
from workflows import tool_parameters

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
KEYS = ("method", "url", "headers", "query", "body", "max_response_bytes", "response_pointer")
MAX_MAX_RESPONSE_BYTES = 100_000_000
# `{name}` is an argument; `${NAME}` (an env var) is matched first so it is never taken for one.
TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
PLACEHOLDER = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# Header names that carry credentials: their values must come from the environment.
CREDENTIAL_WORDS = ("auth", "key", "token", "secret", "password", "cookie", "session", "signature")
URL_START = re.compile(r"^(https?)://([^/?#]*)", re.IGNORECASE)

PARAMETERS = tool_parameters.HTTP_API


@dataclass(frozen=True)
class Settings:
    method: str
    url: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: Any  # a JSON template; None: no body
    max_response_bytes: int | None
    response_pointer: str | None


def settings(config: Mapping[str, Any]) -> Settings:
    """The tool's settings, checked; ToolConfigError names the first wrong key."""
    for key in config:
        if key not in KEYS:
            raise ToolConfigError(str(key), f"unknown setting; expected one of {', '.join(KEYS)}")
    method = config.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ToolConfigError("method", f"must be one of {', '.join(METHODS)}")
    method = method.upper()
    url = _url(config.get("url"))
    headers = _string_map(config, "headers")
    for name, value in headers.items():
        _check_header(name, value)
    query = _string_map(config, "query", scalars=True)
    body = config.get("body")
    if body is not None and method in ("GET", "HEAD"):
        raise ToolConfigError("body", f"a {method} request has no body")
    _check_json(body)
    return Settings(
        method=method,
        url=url,
        headers=headers,
        query=query,
        body=body,
        max_response_bytes=_optional_size(config.get("max_response_bytes")),
        response_pointer=_pointer(config.get("response_pointer")),
    )


def check_config(config: Mapping[str, Any]) -> None:
    settings(config)


def _url(url: Any) -> str:
    if not isinstance(url, str) or not url:
        raise ToolConfigError("url", "required: an http(s) URL template, e.g. https://api/x/{id}")
    start = URL_START.match(url)
    if start is None or not start.group(2):
        raise ToolConfigError("url", "must start with http:// or https:// and a host")
    if "{" in start.group(2) or "}" in start.group(2):
        raise ToolConfigError("url", "the scheme and host are fixed: placeholders only after them")
    stray = TEMPLATE.sub("", url)
    if "{" in stray or "}" in stray:
        raise ToolConfigError("url", "placeholders are {name}, with name a letter, digits and _")
    return url


def _string_map(config: Mapping[str, Any], key: str, scalars: bool = False) -> dict[str, str]:
    """A mapping of names to strings (`scalars`: numbers and booleans too, as JSON spells them)."""
    found = config.get(key)
    if found is None:
        return {}
    if not isinstance(found, Mapping):
        raise ToolConfigError(key, "must be a mapping of names to values")
    allowed = (str, int, float, bool) if scalars else (str,)
    strings: dict[str, str] = {}
    for name, value in found.items():
        if not isinstance(name, str) or not name or not isinstance(value, allowed):
            expected = "a string, number or boolean" if scalars else "a string"
            raise ToolConfigError(key, f"{name!r} must map to {expected}")
        strings[name] = value if isinstance(value, str) else json.dumps(value)
    return strings


def _check_header(name: str, value: str) -> None:
    where = f"headers.{name}"
    if name.lower() in net.RESERVED_HEADERS or name.lower() == "idempotency-key":
        raise ToolConfigError(where, "is set by the tool itself")
    if any(match.group(2) for match in TEMPLATE.finditer(value)):
        raise ToolConfigError(where, "header values take ${VAR} references, not {arguments}")
    lowered = name.lower()
    if any(word in lowered for word in CREDENTIAL_WORDS) and not ENV_REFERENCE.search(value):
        raise ToolConfigError(
            where,
            "looks like a credential: reference an env var of the worker, e.g. "
            '"Bearer ${API_TOKEN}", instead of writing the value in the config',
        )


def _check_json(value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ToolConfigError("body", f"must be a JSON value: {err}") from err


def _optional_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolConfigError("max_response_bytes", "must be a whole number of bytes")
    if not 1 <= value <= MAX_MAX_RESPONSE_BYTES:
        raise ToolConfigError("max_response_bytes", f"must be 1 to {MAX_MAX_RESPONSE_BYTES}")
    return value


def _pointer(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or (value and not value.startswith("/")):
        raise ToolConfigError("response_pointer", 'a JSON Pointer: "" or "/a/0/b"')
    return value


# ----- filling templates ----------------------------------------------------------------------


class _Missing(Exception):
    """A template references an argument the call did not give."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def fill(
    template: str,
    arguments: Mapping[str, Any],
    env: Mapping[str, str],
    where: str,
    encode: bool = False,
) -> str:
    """`template` with `${VAR}` from the environment and `{arg}` from the arguments, in one pass
    (a value is never read as a template itself); arguments URL-encoded when `encode`."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return substitute_env(match.group(0), env, where)
        name = match.group(2)
        if name not in arguments or arguments[name] is None:
            raise _Missing(name)
        text = _as_text(arguments[name])
        return quote(text, safe="") if encode else text

    return TEMPLATE.sub(value, template)


def fill_json(template: Any, arguments: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    """The body: a string that is exactly `{arg}` becomes the argument's JSON value; members and
    items that reference an argument the call did not give are left out."""
    if isinstance(template, str):
        whole = PLACEHOLDER.match(template)
        if whole is not None:
            if arguments.get(whole.group(1)) is None:
                raise _Missing(whole.group(1))
            return arguments[whole.group(1)]
        return fill(template, arguments, env, "the body")
    if isinstance(template, Mapping):
        filled: dict[str, Any] = {}
        for key, item in template.items():
            try:
                filled[key] = fill_json(item, arguments, env)
            except _Missing:
                continue
        return filled
    if isinstance(template, list):
        items = []
        for item in template:
            try:
                items.append(fill_json(item, arguments, env))
            except _Missing:
                continue
        return items
    return template


def build_request(
    config: Settings, arguments: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[str, dict[str, str], dict[str, str]]:
    """(url, headers, query parameters) for one call. A missing URL argument is the model's to
    fix; a query parameter that references a missing argument is left out."""
    try:
        url = fill(config.url, arguments, env, "the url", encode=True)
    except _Missing as err:
        raise ToolError(f"argument {err.name!r} is needed for the URL") from err
    headers = {
        name: substitute_env(value, env, f"header {name}") for name, value in config.headers.items()
    }
    query: dict[str, str] = {}
    for name, template in config.query.items():
        try:
            query[name] = fill(template, arguments, env, f"query parameter {name}")
        except _Missing:
            continue
    return url, headers, query


# ----- the response ---------------------------------------------------------------------------


def select(value: Any, pointer: str) -> Any:
    """RFC 6901: the part of a JSON document at `pointer`; ToolError when it is not there."""
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, Mapping) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            raise ToolError(f"the response has nothing at {pointer!r}")
    return value


def result_text(result: net.HttpResult, pointer: str | None) -> str:
    if result.truncated or not result.body or not is_json(result):
        if pointer and result.body and not result.truncated:
            raise ToolError("the response is not JSON, so response_pointer cannot apply")
        return body_text(result)
    picked = select(result.json(), pointer or "")
    if isinstance(picked, str):
        return picked
    return json.dumps(picked, ensure_ascii=False, separators=(",", ":"))


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    try:
        checked = settings(config)
    except ToolConfigError as err:
        raise ToolError(f"tool {ctx.tool_name!r} is misconfigured: {err}") from err
    url, headers, query = build_request(checked, arguments, ctx.env)
    headers["Idempotency-Key"] = net.idempotency_key(ctx.run_id, ctx.call_id)
    try:
        body = None if checked.body is None else fill_json(checked.body, arguments, ctx.env)
    except _Missing as err:
        raise ToolError(f"argument {err.name!r} is needed for the body") from err
    secret_headers = [
        name for name, value in checked.headers.items() if ENV_REFERENCE.search(value)
    ]
    result = await net.fetch(
        ctx,
        checked.method,
        url,
        headers=headers,
        params=query or None,
        json_body=body,
        max_bytes=checked.max_response_bytes,
        sensitive_headers=secret_headers,
    )
    net.check_status(result, urlsplit(result.url).hostname or "the API")
    return result_text(result, checked.response_pointer)


KIND = ToolImplementation(
    kind="http",
    run=run,
    description="Call an HTTP API with the given arguments.",
    parameters=PARAMETERS,
    check_config=check_config,
)
