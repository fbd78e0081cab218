"""Web search backends: each turns a query into hits, speaking one search API's wire format.

A backend is a `SearchBackend` value: a `search` coroutine and a `check_config` for the keys it
reads. Adding a backend means writing those two functions and naming it in `BACKENDS`; the
`web_search` kind (web_search.py) does the arguments, the limits and the result text.

Every request goes through `activities.tools.net.fetch`, so the outbound guard (blocked private
addresses unless allowlisted, size and time caps) applies to search like to any other HTTP tool.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from activities.tools.base import ToolConfigError, ToolContext, ToolError
from activities.tools.net import HttpResult, check_status, fetch

BRAVE_BASE_URL = "https://api.search.brave.com"
BRAVE_KEY_ENV = "BRAVE_SEARCH_API_KEY"
SEARXNG_SAFESEARCH = (0, 1, 2)  # off, moderate, strict
BRAVE_SAFESEARCH = ("off", "moderate", "strict")


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    snippet: str


@dataclass(frozen=True)
class SearchResults:
    """What a backend found. `answers` and `suggestions` are extras some engines give."""

    hits: tuple[SearchHit, ...]
    answers: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()


SearchFunction = Callable[[str, int, ToolContext, Mapping[str, Any]], Awaitable[SearchResults]]


@dataclass(frozen=True)
class SearchBackend:
    """search(query, limit, ctx, config): at most `limit` hits (ToolError for what the model
    should see). check_config(config): ToolConfigError naming the key."""

    name: str
    search: SearchFunction
    check_config: Callable[[Mapping[str, Any]], None]


# ----- config checks shared by the backends ----------------------------------------------------


def check_base_url(value: Any, field: str) -> None:
    """An http(s) URL with a host, no query or fragment: paths are appended to it."""
    if not isinstance(value, str) or not value:
        raise ToolConfigError(field, "must be a URL string, e.g. https://search.example.com")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolConfigError(field, f"must be an http or https URL with a host, not {value!r}")
    if parts.query or parts.fragment:
        raise ToolConfigError(field, "must not have a query string or fragment")


def _check_optional_str(config: Mapping[str, Any], key: str) -> None:
    value = config.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ToolConfigError(key, "must be a non-empty string")


def _check_env_name(config: Mapping[str, Any], key: str) -> None:
    value = config.get(key)
    if value is not None and (
        not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value)
    ):
        raise ToolConfigError(key, "must be the name of an environment variable")


def _endpoint(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _json_object(result: HttpResult, what: str) -> Mapping[str, Any]:
    body = result.json()
    if not isinstance(body, Mapping):
        raise ToolError(f"{what} answered something that is not a JSON object")
    return body


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _hits(items: Any, snippet_key: str, limit: int) -> tuple[SearchHit, ...]:
    """Hits with an http(s) URL, in the order given, at most `limit`."""
    hits: list[SearchHit] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        url = _text(item.get("url"))
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        hits.append(SearchHit(_text(item.get("title")), url, _text(item.get(snippet_key))))
        if len(hits) == limit:
            break
    return tuple(hits)


# ----- SearXNG (self-hosted metasearch, JSON API) -----------------------------------------------


def _check_searxng(config: Mapping[str, Any]) -> None:
    check_base_url(config.get("base_url"), "base_url")
    categories = config.get("categories")
    if categories is not None and not (
        (isinstance(categories, str) and categories.strip())
        or (
            isinstance(categories, list)
            and categories
            and all(isinstance(c, str) and c.strip() for c in categories)
        )
    ):
        raise ToolConfigError("categories", "must be a string or a list of strings")
    _check_optional_str(config, "language")
    safesearch = config.get("safesearch")
    if safesearch is not None and (
        isinstance(safesearch, bool) or safesearch not in SEARXNG_SAFESEARCH
    ):
        raise ToolConfigError("safesearch", "must be 0 (off), 1 (moderate) or 2 (strict)")


async def _search_searxng(
    query: str, limit: int, ctx: ToolContext, config: Mapping[str, Any]
) -> SearchResults:
    """GET {base_url}/search?q=...&format=json. SearXNG answers a fixed page (about 20 results)
    whatever the limit, so the hits are cut here."""
    params = {"q": query, "format": "json"}
    categories = config.get("categories")
    if categories:
        params["categories"] = categories if isinstance(categories, str) else ",".join(categories)
    if config.get("language"):
        params["language"] = str(config["language"])
    if config.get("safesearch") is not None:
        params["safesearch"] = str(config["safesearch"])
    result = await fetch(
        ctx,
        "GET",
        _endpoint(str(config["base_url"]), "/search"),
        params=params,
        headers={"Accept": "application/json"},
    )
    if result.status == 403:
        # What SearXNG answers when `json` is not in `search.formats` of its settings.yml.
        raise ToolError(
            "SearXNG refused the JSON format (403): add `json` to `search.formats` in the "
            "instance's settings.yml"
        )
    check_status(result, "SearXNG")
    body = _json_object(result, "SearXNG")
    answers = []
    for answer in body.get("answers") or []:
        # Older SearXNG versions list strings; newer ones objects with an `answer` key.
        text = answer.get("answer") if isinstance(answer, Mapping) else answer
        if isinstance(text, str) and text.strip():
            answers.append(text)
    suggestions = [s for s in body.get("suggestions") or [] if isinstance(s, str)]
    return SearchResults(
        hits=_hits(body.get("results"), "content", limit),
        answers=tuple(answers),
        suggestions=tuple(suggestions),
    )


# ----- Brave Search API (hosted) ------------------------------------------------------------------


def _check_brave(config: Mapping[str, Any]) -> None:
    if config.get("base_url") is not None:
        check_base_url(config["base_url"], "base_url")
    _check_env_name(config, "api_key_env")
    _check_optional_str(config, "country")
    _check_optional_str(config, "search_lang")
    safesearch = config.get("safesearch")
    if safesearch is not None and safesearch not in BRAVE_SAFESEARCH:
        raise ToolConfigError("safesearch", "must be one of off, moderate, strict")


async def _search_brave(
    query: str, limit: int, ctx: ToolContext, config: Mapping[str, Any]
) -> SearchResults:
    """GET /res/v1/web/search?q=...&count=N with the key in X-Subscription-Token."""
    key_env = str(config.get("api_key_env") or BRAVE_KEY_ENV)
    key = ctx.env.get(key_env)
    if not key:
        raise ToolError(f"web search needs a Brave Search API key: set {key_env} on the worker")
    params = {"q": query, "count": str(limit)}
    for name in ("country", "search_lang", "safesearch"):
        if config.get(name):
            params[name] = str(config[name])
    result = await fetch(
        ctx,
        "GET",
        _endpoint(str(config.get("base_url") or BRAVE_BASE_URL), "/res/v1/web/search"),
        params=params,
        headers={"Accept": "application/json", "X-Subscription-Token": key},
    )
    if result.status in (401, 403):
        raise ToolError(
            f"Brave Search refused the API key in {key_env} ({result.status}): "
            "check the key and its plan"
        )
    check_status(result, "Brave Search")
    body = _json_object(result, "Brave Search")
    web = body.get("web")
    items = web.get("results") if isinstance(web, Mapping) else None
    return SearchResults(hits=_hits(items, "description", limit))


BACKENDS: Mapping[str, SearchBackend] = MappingProxyType(
    {
        backend.name: backend
        for backend in (
            SearchBackend("searxng", _search_searxng, _check_searxng),
            SearchBackend("brave", _search_brave, _check_brave),
        )
    }
)


_TAG = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")


def clean(text: str, limit: int) -> str:
    """Plain one-line text: highlight tags dropped (Brave marks matches with <strong>),
    entities decoded, whitespace collapsed, cut at `limit` characters with an ellipsis."""
    text = _SPACE.sub(" ", html.unescape(_TAG.sub("", text))).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
