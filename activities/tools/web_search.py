"""The `web_search` kind: search the web through a configured backend (search_backends.py).

The backend is chosen per tool by `config.backend` ("searxng" for a self-hosted SearXNG, "brave"
for the Brave Search API), so a team can point agents at the search it runs or pays for without
the model seeing the difference. The result is a short numbered list the model can read and cite:
title, URL and a capped one-line snippet per hit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from activities.tools.search_backends import BACKENDS, BRAVE_KEY_ENV, SearchResults, clean
from activities.tools.secrets import redact, secret_values
from workflows import tool_parameters
from workflows.tool_parameters import MAX_QUERY_CHARS, MAX_RESULTS

DEFAULT_MAX_RESULTS = 5
SNIPPET_CHARS = 300
TITLE_CHARS = 200

PARAMETERS = tool_parameters.WEB_SEARCH


def check_config(config: Mapping[str, Any]) -> None:
    backend = config.get("backend")
    if backend not in BACKENDS:
        choices = ", ".join(sorted(BACKENDS))
        raise ToolConfigError("backend", f"must be one of {choices}, not {backend!r}")
    max_results = config.get("max_results")
    if max_results is not None and (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= MAX_RESULTS
    ):
        raise ToolConfigError("max_results", f"must be an integer from 1 to {MAX_RESULTS}")
    BACKENDS[str(backend)].check_config(config)


def _limit(arguments: Mapping[str, Any], config: Mapping[str, Any]) -> int:
    """The argument, capped by the tool's `max_results` (which is also the default)."""
    cap = config.get("max_results", DEFAULT_MAX_RESULTS)
    if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= MAX_RESULTS:
        cap = DEFAULT_MAX_RESULTS
    wanted = arguments.get("max_results")
    if isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 1:
        return cap
    return min(wanted, cap)


def format_results(query: str, results: SearchResults) -> str:
    lines: list[str] = []
    for answer in results.answers[:3]:
        lines.append(f"Answer: {clean(answer, SNIPPET_CHARS)}")
    if not results.hits:
        lines.append(f"No results for {query!r}.")
        if results.suggestions:
            lines.append("Suggestions: " + "; ".join(clean(s, 100) for s in results.suggestions))
        return "\n".join(lines)
    lines.append(f"Results for {query!r}:")
    for number, hit in enumerate(results.hits, start=1):
        lines.append(f"{number}. {clean(hit.title, TITLE_CHARS) or '(no title)'}")
        lines.append(f"   {hit.url}")
        snippet = clean(hit.snippet, SNIPPET_CHARS)
        if snippet:
            lines.append(f"   {snippet}")
    return "\n".join(lines)


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    query = arguments.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ToolError("argument 'query' must be a non-empty string")
    if len(query) > MAX_QUERY_CHARS:
        raise ToolError(f"argument 'query' is longer than {MAX_QUERY_CHARS} characters")
    backend = BACKENDS.get(str(config.get("backend")))
    if backend is None:
        raise ToolError(f"tool config 'backend' must be one of {', '.join(sorted(BACKENDS))}")
    # The key must not come back even if an upstream error echoes it (the activity redacts only
    # the env vars the config names, and `api_key_env` may be left at its default).
    secrets = secret_values({"api_key_env": config.get("api_key_env") or BRAVE_KEY_ENV}, ctx.env)
    try:
        results = await backend.search(query.strip(), _limit(arguments, config), ctx, config)
    except ToolError as err:
        if redact(str(err), secrets) != str(err):
            raise ToolError(redact(str(err), secrets)) from None
        raise
    return redact(format_results(query.strip(), results), secrets)


KIND = ToolImplementation(
    kind="web_search",
    run=run,
    description=(
        "Search the web. Returns a numbered list of results: title, URL and a short snippet."
    ),
    parameters=PARAMETERS,
    check_config=check_config,
    secret_envs=(BRAVE_KEY_ENV,),
)
