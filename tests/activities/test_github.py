"""The github kind against a real local fake of the GitHub REST API (and of GitHub Enterprise's
/api/v3 base)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from activities.tools.base import InvalidArguments, OutboundPolicy, ToolContext, ToolError
from activities.tools.github import REQUIRED
from activities.tools.net import BlockedDestination, UpstreamUnavailable
from activities.tools.registry import execute_tool
from config_store.specs import ToolIn
from core.errors import InvalidConfig
from services.tools import create_tool
from tests.fakes.github_server import GITHUB_TOKEN, PRIVATE, PUBLIC, FakeGitHubServer
from workflows.types import ToolSpec

LOCAL = OutboundPolicy(allow_hosts=frozenset({"127.0.0.1"}))


@pytest.fixture(scope="module")
def _github() -> Iterator[FakeGitHubServer]:
    server = FakeGitHubServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def _enterprise() -> Iterator[FakeGitHubServer]:
    server = FakeGitHubServer(prefix="/api/v3")
    server.start()
    yield server
    server.stop()


def _reset(server: FakeGitHubServer) -> FakeGitHubServer:
    server.requests.clear()
    server.comments.clear()
    server.rate_limited = False
    server.echo_auth = False
    return server


@pytest.fixture
def github(_github: FakeGitHubServer) -> FakeGitHubServer:
    return _reset(_github)


@pytest.fixture
def enterprise(_enterprise: FakeGitHubServer) -> FakeGitHubServer:
    return _reset(_enterprise)


@pytest.fixture
def ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace_dir=tmp_path, env={"GITHUB_TOKEN": GITHUB_TOKEN}, outbound=LOCAL)


@pytest.fixture
def anonymous(tmp_path: Path) -> ToolContext:
    return ToolContext(workspace_dir=tmp_path, outbound=LOCAL)


def tool(server: FakeGitHubServer, **config: Any) -> ToolSpec:
    return ToolSpec(name="gh", kind="github", config={"api_base": server.api_base, **config})


async def _run(spec: ToolSpec, ctx: ToolContext, **arguments: Any) -> str:
    result = await execute_tool(spec, arguments, ctx)
    assert GITHUB_TOKEN not in result
    return result


async def _problem(spec: ToolSpec, ctx: ToolContext, **arguments: Any) -> str:
    with pytest.raises(ToolError) as caught:
        await execute_tool(spec, arguments, ctx)
    assert GITHUB_TOKEN not in str(caught.value)
    return str(caught.value)


async def test_get_issue(github: FakeGitHubServer, ctx: ToolContext) -> None:
    result = await _run(tool(github), ctx, operation="get_issue", repo=PUBLIC, number=1)

    head, body = result.split("\n\n", 1)
    assert head.splitlines() == [
        "#1 [open] Widget crashes on start by alice",
        "comments: 0",
        "labels: bug",
        "https://github.com/acme/widgets/issues/1",
    ]
    assert body.startswith("Steps to reproduce:\nthe widget spins.")
    assert len(body) < 4100 and body.endswith("more characters]")
    (request,) = github.requests
    assert request.method == "GET" and request.path == "/repos/acme/widgets/issues/1"
    assert request.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["user-agent"]


async def test_get_issue_that_is_a_pull(github: FakeGitHubServer, ctx: ToolContext) -> None:
    result = await _run(tool(github), ctx, operation="get_issue", repo=PUBLIC, number=3)

    assert result.startswith("PR #3 [open] Fix the crash by carol\ncomments: 0\n")
    assert "get_pull" in result


async def test_list_issues(github: FakeGitHubServer, ctx: ToolContext) -> None:
    spec = tool(github)
    every = await _run(spec, ctx, operation="list_issues", repo=PUBLIC, state="all", per_page=5)
    open_ = await _run(spec, ctx, operation="list_issues", repo=PUBLIC)
    none = await _run(spec, ctx, operation="list_issues", repo=PRIVATE, state="closed")

    assert every.splitlines() == [
        "#1 [open] Widget crashes on start by alice (bug)",
        "#2 [closed] Add a blue widget by bob",
        "PR #3 [open] Fix the crash by carol (bug, fix)",
    ]
    assert github.requests[0].params == {"state": "all", "per_page": "5"}
    assert github.requests[1].params == {"state": "open", "per_page": "10"}
    assert "#2" not in open_
    assert none == "no closed issues in acme/secret"


async def test_search_issues(github: FakeGitHubServer, ctx: ToolContext) -> None:
    spec = tool(github)
    everywhere = await _run(spec, ctx, operation="search_issues", query="crash")
    scoped = await _run(spec, ctx, operation="search_issues", query="crash is:pr", repo=PUBLIC)

    assert everywhere.splitlines() == [
        "3 results for 'crash', showing 3:",
        "acme/widgets#1 [open] Widget crashes on start by alice (bug)",
        "PR acme/widgets#3 [open] Fix the crash by carol (bug, fix)",
        "acme/secret#1 [open] Secret crash plan by mallory",
    ]
    assert github.requests[0].path == "/search/issues"
    assert github.requests[0].params == {"q": "crash", "per_page": "10"}
    assert github.requests[1].params["q"] == "crash is:pr repo:acme/widgets"
    assert scoped.splitlines()[1:] == ["PR acme/widgets#3 [open] Fix the crash by carol (bug, fix)"]


async def test_search_stays_inside_the_allowed_repos(
    github: FakeGitHubServer, ctx: ToolContext
) -> None:
    spec = tool(github, repos=["Acme/Widgets"])

    scoped = await _run(spec, ctx, operation="search_issues", query="crash")
    sneaky = await _run(spec, ctx, operation="search_issues", query=f"crash repo:{PRIVATE}")

    assert github.requests[0].params["q"] == "crash repo:acme/widgets"
    assert "acme/secret" not in scoped and "acme/widgets#1" in scoped
    assert "acme/secret#" not in sneaky and "showing 2" in sneaky
    assert "1 outside the allowed repositories left out" in sneaky
    refused = await _problem(spec, ctx, operation="search_issues", query="x", repo=PRIVATE)
    assert "acme/secret is not one this tool may use" in refused


async def test_get_and_list_pulls(github: FakeGitHubServer, ctx: ToolContext) -> None:
    spec = tool(github)
    pull = await _run(spec, ctx, operation="get_pull", repo=PUBLIC, number=3)
    pulls = await _run(spec, ctx, operation="list_pulls", repo=PUBLIC, state="all")

    assert pull == (
        "PR #3 [open] Fix the crash by carol\n"
        "carol:fix-crash -> main\n"
        "+12 -3 in 2 files, 1 commits\n"
        "labels: bug, fix\n"
        "https://github.com/acme/widgets/pull/3\n\n"
        "Fixes #1."
    )
    assert pulls == "PR #3 [open] Fix the crash by carol (bug, fix)"
    assert github.requests[1].path == "/repos/acme/widgets/pulls"
    assert "not found" in await _problem(spec, ctx, operation="get_pull", repo=PUBLIC, number=1)


async def test_get_file(github: FakeGitHubServer, ctx: ToolContext) -> None:
    spec = tool(github)
    readme = await _run(spec, ctx, operation="get_file", repo=PUBLIC, path="README.md")
    old = await _run(spec, ctx, operation="get_file", repo=PUBLIC, path="/README.md", ref="v1.0")
    odd = await _run(spec, ctx, operation="get_file", repo=PUBLIC, path="src/widgets/odd name?.txt")

    assert readme == "acme/widgets:README.md (31 bytes)\n\n# Widgets\n\nThe widget library.\n"
    assert old == "acme/widgets:README.md@v1.0 (13 bytes)\n\n# Widgets v1\n"
    assert github.requests[1].params == {"ref": "v1.0"}
    assert odd.endswith("a file whose name needs escaping\n")
    assert github.requests[2].path == "/repos/acme/widgets/contents/src/widgets/odd%20name%3F.txt"


async def test_get_file_refusals(github: FakeGitHubServer, ctx: ToolContext) -> None:
    spec = tool(github)

    directory = await _problem(spec, ctx, operation="get_file", repo=PUBLIC, path="src")
    root = await _problem(spec, ctx, operation="get_file", repo=PUBLIC, path="/")
    binary = await _problem(spec, ctx, operation="get_file", repo=PUBLIC, path="logo.png")
    missing_ref = await _problem(
        spec, ctx, operation="get_file", repo=PUBLIC, path="README.md", ref="nope"
    )

    assert directory == "acme/widgets:src is a directory; it holds: widgets/"
    assert root == "acme/widgets:/ is a directory; it holds: README.md, src/, logo.png"
    assert "binary" in binary
    assert "not found" in missing_ref and "No commit found for the ref nope" in missing_ref
    sent = len(github.requests)
    escape = await _problem(spec, ctx, operation="get_file", repo=PUBLIC, path="../../../user")
    assert "'..'" in escape
    assert len(github.requests) == sent  # refused before anything was sent


async def test_comment_issue(github: FakeGitHubServer, ctx: ToolContext) -> None:
    spec = tool(github, allow_write=True, repos=[PUBLIC])

    result = await _run(
        spec, ctx, operation="comment_issue", repo=PUBLIC, number=1, body="Looking into it."
    )

    assert result == (
        "commented on acme/widgets#1: https://github.com/acme/widgets/issues/1#issuecomment-1"
    )
    assert github.comments == [(PUBLIC, 1, "Looking into it.")]
    (request,) = github.requests
    assert request.method == "POST" and request.path == "/repos/acme/widgets/issues/1/comments"
    assert request.json == {"body": "Looking into it."}


async def test_comment_refusals(
    github: FakeGitHubServer, ctx: ToolContext, anonymous: ToolContext
) -> None:
    args = {"operation": "comment_issue", "number": 1, "body": "hi"}

    read_only = await _problem(tool(github), ctx, repo=PUBLIC, **args)
    other_repo = await _problem(
        tool(github, allow_write=True, repos=[PUBLIC]), ctx, repo=PRIVATE, **args
    )
    no_token = await _problem(tool(github, allow_write=True), anonymous, repo=PUBLIC, **args)
    other_env = await _problem(
        tool(github, allow_write=True, token_env="GH_BOT_TOKEN"), ctx, repo=PUBLIC, **args
    )

    assert "read-only" in read_only and "allow_write" in read_only
    assert "acme/secret is not one this tool may use" in other_repo
    assert "GITHUB_TOKEN" in no_token
    assert "GH_BOT_TOKEN" in other_env
    assert github.requests == [] and github.comments == []


async def test_enterprise_base_path(enterprise: FakeGitHubServer, ctx: ToolContext) -> None:
    spec = tool(enterprise, allow_write=True)
    assert spec.config["api_base"].endswith("/api/v3")

    issue = await _run(spec, ctx, operation="get_issue", repo=PUBLIC, number=2)
    readme = await _run(spec, ctx, operation="get_file", repo=PUBLIC, path="README.md")
    found = await _run(spec, ctx, operation="search_issues", query="blue")
    await _run(spec, ctx, operation="comment_issue", repo=PUBLIC, number=2, body="Done.")

    assert issue.startswith("#2 [closed] Add a blue widget by bob\ncomments: 3")
    assert "# Widgets" in readme
    assert "acme/widgets#2" in found
    assert [r.path for r in enterprise.requests] == [
        "/api/v3/repos/acme/widgets/issues/2",
        "/api/v3/repos/acme/widgets/contents/README.md",
        "/api/v3/search/issues",
        "/api/v3/repos/acme/widgets/issues/2/comments",
    ]
    assert enterprise.comments == [(PUBLIC, 2, "Done.")]


async def test_not_found_and_private_without_token(
    github: FakeGitHubServer, ctx: ToolContext, anonymous: ToolContext
) -> None:
    spec = tool(github)

    missing = await _problem(spec, ctx, operation="get_issue", repo=PUBLIC, number=99)
    private = await _problem(spec, anonymous, operation="get_issue", repo=PRIVATE, number=1)
    public = await _run(spec, anonymous, operation="get_issue", repo=PUBLIC, number=1)

    assert missing.startswith("GitHub: not found (or no access)")
    assert private.startswith("GitHub: not found (or no access)")
    assert public.startswith("#1 [open]")
    assert "authorization" not in github.requests[-1].headers


async def test_bad_token(github: FakeGitHubServer, tmp_path: Path) -> None:
    wrong = ToolContext(
        workspace_dir=tmp_path, env={"GITHUB_TOKEN": "ghp_wrongTOKEN999"}, outbound=LOCAL
    )

    problem = await _problem(tool(github), wrong, operation="get_issue", repo=PUBLIC, number=1)

    assert "GITHUB_TOKEN" in problem and "401" in problem and "Bad credentials" in problem
    assert "ghp_wrongTOKEN999" not in problem


async def test_an_echoed_token_is_redacted(github: FakeGitHubServer, ctx: ToolContext) -> None:
    github.echo_auth = True

    problem = await _problem(tool(github), ctx, operation="get_issue", repo=PUBLIC, number=1)

    assert problem == (
        "GitHub could not process the request (422): "
        "Validation Failed: bad header Bearer [redacted]"
    )


async def test_rate_limit_is_retried(github: FakeGitHubServer, ctx: ToolContext) -> None:
    github.rate_limited = True

    with pytest.raises(UpstreamUnavailable):
        await execute_tool(tool(github), {"operation": "list_issues", "repo": PUBLIC}, ctx)


@pytest.mark.parametrize("operation", list(REQUIRED))
async def test_missing_arguments_are_named(
    github: FakeGitHubServer, ctx: ToolContext, operation: str
) -> None:
    spec = tool(github, allow_write=True)
    full = {"repo": PUBLIC, "number": 1, "query": "crash", "path": "README.md", "body": "hi"}

    for name in REQUIRED[operation]:
        arguments = {k: v for k, v in full.items() if k in REQUIRED[operation] and k != name}
        problem = await _problem(spec, ctx, operation=operation, **arguments)
        assert f"operation {operation} needs argument '{name}'" == problem
    assert github.requests == []


async def test_schema_rejects_bad_arguments(github: FakeGitHubServer, ctx: ToolContext) -> None:
    spec = tool(github)
    bad = [
        {"operation": "delete_repo", "repo": PUBLIC},
        {"operation": "get_issue", "repo": "acme", "number": 1},
        {"operation": "get_issue", "repo": "acme/widgets/../x", "number": 1},
        {"operation": "get_issue", "repo": PUBLIC, "number": 0},
        {"operation": "list_issues", "repo": PUBLIC, "per_page": 51},
        {"operation": "list_issues", "repo": PUBLIC, "state": "merged"},
    ]
    for arguments in bad:
        with pytest.raises(InvalidArguments):
            await execute_tool(spec, arguments, ctx)
    dot = await _problem(spec, ctx, operation="get_issue", repo="acme/..", number=1)
    assert "owner/name" in dot
    assert github.requests == []


async def test_the_guard_refuses_a_local_server_without_the_allowlist(
    github: FakeGitHubServer, tmp_path: Path
) -> None:
    ctx = ToolContext(workspace_dir=tmp_path, env={"GITHUB_TOKEN": GITHUB_TOKEN})

    with pytest.raises(BlockedDestination):
        await execute_tool(tool(github), {"operation": "list_issues", "repo": PUBLIC}, ctx)
    assert github.requests == []


BAD_CONFIGS = [
    ({"api_base": "ghe.example.com/api/v3"}, "config.api_base"),
    ({"api_base": "file:///etc"}, "config.api_base"),
    ({"token_env": "1TOKEN"}, "config.token_env"),
    ({"token_env": 5}, "config.token_env"),
    ({"repos": "acme/widgets"}, "config.repos"),
    ({"repos": ["acme"]}, "config.repos"),
    ({"repos": ["acme/.."]}, "config.repos"),
    ({"allow_write": "yes"}, "config.allow_write"),
]


@pytest.mark.parametrize(("config", "field"), BAD_CONFIGS)
def test_check_config_rejects(
    session_factory: sessionmaker[Session], config: dict[str, Any], field: str
) -> None:
    with session_factory() as session, pytest.raises(InvalidConfig) as caught:
        create_tool(session, "gh", ToolIn(kind="github", config=config))

    assert caught.value.field == field


def test_check_config_accepts(session_factory: sessionmaker[Session]) -> None:
    config = {
        "api_base": "https://ghe.example.com/api/v3",
        "token_env": "GHE_TOKEN",
        "repos": ["acme/widgets", "acme/docs.site"],
        "allow_write": True,
    }
    with session_factory() as session:
        row = create_tool(
            session, "gh", ToolIn(kind="github", config=config, requires_approval=True)
        )
        create_tool(session, "gh_public", ToolIn(kind="github"))
        session.commit()

        assert row.config == config
        assert row.parameters["properties"]["operation"]["enum"] == list(REQUIRED)
