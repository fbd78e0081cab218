"""The `github` kind: read issues, pull requests and files, and comment on issues, over the
GitHub REST API (api.github.com, or GitHub Enterprise Server through `config.api_base`).

One tool with an `operation` argument, rather than seven tools, keeps an agent's tool list short;
the arguments each operation needs are checked here and named when missing, so the model can fix
its call. Safety: `config.repos` limits the repositories the tool may touch (search results
included), and writing (`comment_issue`) is off unless `config.allow_write` is true; a tool that
writes should also set `requires_approval`. The token is read from the env var `token_env` names,
sent only as a header, and never part of a result. Requests go through the outbound guard
(net.py), so an Enterprise base on a private address must be allowlisted.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from activities.tools import github_format as fmt
from activities.tools.base import ToolConfigError, ToolContext, ToolError, ToolImplementation
from activities.tools.net import HttpResult, UpstreamUnavailable, check_status, fetch
from activities.tools.search_backends import check_base_url
from activities.tools.secrets import redact, secret_values
from workflows import tool_parameters
from workflows.tool_parameters import MAX_COMMENT_CHARS, REPO_PATTERN, REQUIRED

API_BASE = "https://api.github.com"
TOKEN_ENV = "GITHUB_TOKEN"
USER_AGENT = "orch-github-tool"
API_VERSION = "2022-11-28"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
WRITES = frozenset({"comment_issue"})

PARAMETERS = tool_parameters.GITHUB


def check_config(config: Mapping[str, Any]) -> None:
    if config.get("api_base") is not None:
        check_base_url(config["api_base"], "api_base")
    token_env = config.get("token_env")
    if token_env is not None and (
        not isinstance(token_env, str) or not ENV_NAME.fullmatch(token_env)
    ):
        raise ToolConfigError("token_env", "must be the name of an environment variable")
    repos = config.get("repos")
    if repos is not None and (
        not isinstance(repos, list) or not all(_valid_repo(r) for r in repos)
    ):
        raise ToolConfigError("repos", 'must be a list of "owner/name" repositories')
    if not isinstance(config.get("allow_write", False), bool):
        raise ToolConfigError("allow_write", "must be true or false")


def _valid_repo(value: Any) -> bool:
    return (
        isinstance(value, str)
        and re.fullmatch(REPO_PATTERN, value) is not None
        and value.split("/")[1] not in (".", "..")
    )


@dataclass(frozen=True)
class _Call:
    """One call: the checked arguments and how to reach the API."""

    args: Mapping[str, Any]
    ctx: ToolContext
    base: str
    token: str
    token_env: str
    allowed: frozenset[str]  # lower-case owner/name; empty: any

    def repo(self) -> str:
        repo = self.args["repo"]
        if not _valid_repo(repo):
            raise ToolError(f"argument 'repo' must be \"owner/name\", not {repo!r}")
        if self.allowed and repo.lower() not in self.allowed:
            raise ToolError(f"repository {repo} is not one this tool may use")
        return str(repo)

    def number(self) -> int:
        number = self.args["number"]
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise ToolError("argument 'number' must be a positive integer")
        return number

    def listing(self) -> dict[str, str]:
        state = self.args.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise ToolError("argument 'state' must be open, closed or all")
        return {"state": str(state), "per_page": str(self.per_page())}

    def per_page(self) -> int:
        per_page = self.args.get("per_page", 10)
        if isinstance(per_page, bool) or not isinstance(per_page, int):
            raise ToolError("argument 'per_page' must be an integer from 1 to 50")
        return max(1, min(per_page, 50))

    async def api(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": USER_AGENT,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        result = await fetch(
            self.ctx, method, self.base + path, headers=headers, params=params, json_body=body
        )
        self._check(result)
        if result.truncated:
            raise ToolError(f"GitHub's answer is larger than the {len(result.body)}-byte cap")
        return result.json()

    def _check(self, result: HttpResult) -> None:
        status = result.status
        if status < 400:
            return
        message = fmt.error_message(result)
        if status == 404:
            raise ToolError(f"GitHub: not found (or no access){message}")
        if status == 401:
            if self.token:
                raise ToolError(f"GitHub rejected the token in {self.token_env} (401){message}")
            raise ToolError(f"GitHub wants a token (401): set {self.token_env} on the worker")
        limited = result.headers.get("x-ratelimit-remaining") == "0"
        if status in (403, 429) and (limited or "retry-after" in result.headers):
            raise UpstreamUnavailable(f"GitHub rate limit reached ({status})")
        if status == 403:
            hint = (
                f"the token in {self.token_env}" if self.token else f"no token ({self.token_env})"
            )
            raise ToolError(f"GitHub refused the request (403; {hint}){message}")
        if status == 422:
            raise ToolError(f"GitHub could not process the request (422){message}")
        check_status(result, "GitHub")


# ----- operations --------------------------------------------------------------------------------


async def _get_issue(call: _Call) -> str:
    repo, number = call.repo(), call.number()
    return fmt.issue(await call.api("GET", f"/repos/{repo}/issues/{number}"))


async def _list_issues(call: _Call) -> str:
    repo = call.repo()
    params = call.listing()
    items = await call.api("GET", f"/repos/{repo}/issues", params=params)
    return fmt.item_list(items, f"no {params['state']} issues in {repo}", with_repo=False)


async def _search_issues(call: _Call) -> str:
    query = call.args["query"]
    if not isinstance(query, str) or not query.strip():
        raise ToolError("argument 'query' must be a non-empty string")
    scope = [call.repo()] if call.args.get("repo") else sorted(call.allowed)
    q = " ".join([query.strip(), *(f"repo:{repo}" for repo in scope)])
    params = {"q": q, "per_page": str(call.per_page())}
    found = await call.api("GET", "/search/issues", params=params)
    return fmt.search_results(found, query, call.allowed)


async def _get_pull(call: _Call) -> str:
    repo, number = call.repo(), call.number()
    return fmt.pull(await call.api("GET", f"/repos/{repo}/pulls/{number}"))


async def _list_pulls(call: _Call) -> str:
    repo = call.repo()
    params = call.listing()
    items = await call.api("GET", f"/repos/{repo}/pulls", params=params)
    return fmt.item_list(items, f"no {params['state']} pull requests in {repo}", with_repo=False)


async def _get_file(call: _Call) -> str:
    repo, path = call.repo(), call.args["path"]
    if not isinstance(path, str):
        raise ToolError("argument 'path' must be a string")
    inner = path.strip("/")  # "" or "/": the repository's root, answered with its listing
    segments = inner.split("/") if inner else []
    if any(s in ("", ".", "..") for s in segments):
        raise ToolError(f"argument 'path' {path!r}: empty, '.' and '..' parts are not allowed")
    # Each part is escaped: a '?', '#' or encoded slash must not change which endpoint is asked.
    encoded = "/".join(quote(s, safe="") for s in segments)
    ref = call.args.get("ref")
    params = {"ref": ref} if isinstance(ref, str) and ref else None
    found = await call.api("GET", f"/repos/{repo}/contents/{encoded}", params=params)
    return fmt.file_content(found, repo, "/".join(segments), ref if params else None)


async def _comment_issue(call: _Call) -> str:
    repo, number, body = call.repo(), call.number(), call.args["body"]
    if not isinstance(body, str) or not body.strip():
        raise ToolError("argument 'body' must be a non-empty string")
    if len(body) > MAX_COMMENT_CHARS:
        raise ToolError(f"argument 'body' is longer than {MAX_COMMENT_CHARS} characters")
    if not call.token:
        raise ToolError(f"comment_issue needs a GitHub token: set {call.token_env} on the worker")
    made = await call.api("POST", f"/repos/{repo}/issues/{number}/comments", body={"body": body})
    url = made.get("html_url") if isinstance(made, Mapping) else None
    return f"commented on {repo}#{number}" + (f": {url}" if isinstance(url, str) else "")


OPERATIONS: Mapping[str, Callable[[_Call], Awaitable[str]]] = {
    "get_issue": _get_issue,
    "list_issues": _list_issues,
    "search_issues": _search_issues,
    "get_pull": _get_pull,
    "list_pulls": _list_pulls,
    "get_file": _get_file,
    "comment_issue": _comment_issue,
}


async def run(arguments: Mapping[str, Any], ctx: ToolContext, config: Mapping[str, Any]) -> str:
    operation = arguments.get("operation")
    handler = OPERATIONS.get(operation) if isinstance(operation, str) else None
    if handler is None:
        raise ToolError(f"argument 'operation' must be one of {', '.join(OPERATIONS)}")
    missing = [name for name in REQUIRED[str(operation)] if arguments.get(name) in (None, "")]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise ToolError(f"operation {operation} needs argument {names}")
    if operation in WRITES and config.get("allow_write") is not True:
        raise ToolError(f"{operation} is not allowed: this tool is read-only (config allow_write)")
    token_env = str(config.get("token_env") or TOKEN_ENV)
    call = _Call(
        args=arguments,
        ctx=ctx,
        base=str(config.get("api_base") or API_BASE).rstrip("/"),
        token=ctx.env.get(token_env, ""),
        token_env=token_env,
        allowed=frozenset(str(r).lower() for r in config.get("repos") or []),
    )
    # The activity redacts the env vars the config names; `token_env` may be left at its default.
    secrets = secret_values({"token_env": token_env}, ctx.env)
    try:
        return redact(await handler(call), secrets)
    except ToolError as err:
        if redact(str(err), secrets) != str(err):
            raise ToolError(redact(str(err), secrets)) from None
        raise


KIND = ToolImplementation(
    kind="github",
    run=run,
    description=(
        "GitHub: get, list and search issues and pull requests, read a file, comment on an issue."
    ),
    parameters=PARAMETERS,
    check_config=check_config,
    secret_envs=(TOKEN_ENV,),
)
