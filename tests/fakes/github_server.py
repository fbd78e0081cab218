"""A real HTTP server that plays the GitHub REST API v3, for tests of the `github` kind.

It holds two repositories: `acme/widgets` (public) and `acme/secret` (private: 404 without the
token, as GitHub answers), with issues (one of them a pull request, as the issues API lists them),
pull requests, files on two refs, and `/search/issues` over all of it (`repo:`, `is:issue`,
`is:pr`, `state:` qualifiers and words). A wrong `Authorization: Bearer` is a 401 "Bad
credentials"; a comment without a token a 401 "Requires authentication"; `rate_limited = True`
plays GitHub's primary rate limit (403, `x-ratelimit-remaining: 0`); `echo_auth = True` an
upstream whose error message quotes the token back. Paths are served under
`prefix` ("" like api.github.com, "/api/v3" like GitHub Enterprise Server). Every request and
every comment posted is recorded.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.local_server import LocalServer

GITHUB_TOKEN = "ghp_fakeTOKEN0123456789abcdef"
PUBLIC = "acme/widgets"
PRIVATE = "acme/secret"

FILES: dict[str, dict[str, dict[str, bytes]]] = {
    PUBLIC: {
        "main": {
            "README.md": b"# Widgets\n\nThe widget library.\n",
            "src/widgets/core.py": b"def make_widget():\n    return 'widget'\n",
            "src/widgets/odd name?.txt": b"a file whose name needs escaping\n",
            "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        },
        "v1.0": {"README.md": b"# Widgets v1\n"},
    },
    PRIVATE: {"main": {"PLAN.md": b"secret plans\n"}},
}


def _issue(
    number: int, title: str, state: str, login: str, body: str, **extra: Any
) -> dict[str, Any]:
    return {
        "number": number,
        "title": title,
        "state": state,
        "user": {"login": login},
        "body": body,
        "labels": [{"name": name} for name in extra.pop("labels", [])],
        "comments": extra.pop("comments", 0),
        **extra,
    }


def _data() -> dict[str, list[dict[str, Any]]]:
    long_body = "Steps to reproduce:\n" + "the widget spins. " * 400
    return {
        PUBLIC: [
            _issue(1, "Widget crashes on start", "open", "alice", long_body, labels=["bug"]),
            _issue(2, "Add a blue widget", "closed", "bob", "Please add blue.", comments=3),
            _issue(
                3,
                "Fix the crash",
                "open",
                "carol",
                "Fixes #1.",
                labels=["bug", "fix"],
                pull_request={"merged_at": None},
                head={"label": "carol:fix-crash", "ref": "fix-crash"},
                base={"ref": "main"},
                draft=False,
                merged_at=None,
                additions=12,
                deletions=3,
                changed_files=2,
                commits=1,
            ),
        ],
        PRIVATE: [_issue(1, "Secret crash plan", "open", "mallory", "hidden")],
    }


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # as sent, percent-encoding kept, prefix included
    params: dict[str, str]
    headers: dict[str, str]
    json: Any


class FakeGitHubServer(LocalServer):
    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.token = GITHUB_TOKEN
        self.rate_limited = False
        self.echo_auth = False  # answer 422 quoting the Authorization header back
        self.issues = _data()
        self.requests: list[RecordedRequest] = []
        self.comments: list[tuple[str, int, str]] = []  # (repo, number, body)
        self._lock = threading.Lock()
        repo = prefix + "/repos/{owner}/{name}"
        app = Starlette(
            routes=[
                Route(repo + "/issues", self._list_issues),
                Route(repo + "/issues/{number:int}", self._get_issue),
                Route(repo + "/issues/{number:int}/comments", self._comment, methods=["POST"]),
                Route(repo + "/pulls", self._list_pulls),
                Route(repo + "/pulls/{number:int}", self._get_pull),
                Route(repo + "/contents", self._contents),
                Route(repo + "/contents/{path:path}", self._contents),
                Route(prefix + "/search/issues", self._search),
            ]
        )
        super().__init__(app, "fake-github")

    @property
    def api_base(self) -> str:
        return self.base_url + self.prefix

    # ----- helpers -----------------------------------------------------------------------------

    async def _begin(self, request: Request) -> tuple[bool, Response | None]:
        """(authenticated, an error response to send instead, if any)."""
        raw = await request.body()
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.scope["raw_path"].decode(),
                    params=dict(request.query_params),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    json=(await request.json()) if raw else None,
                )
            )
        auth = request.headers.get("authorization")
        if auth is not None and auth != f"Bearer {self.token}":
            return False, _error(401, "Bad credentials")
        if self.echo_auth:
            return False, _error(422, f"Validation Failed: bad header {auth}")
        if self.rate_limited:
            headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1900000000"}
            return False, _error(403, "API rate limit exceeded", headers)
        return auth is not None, None

    def _repo(self, request: Request, authenticated: bool) -> str | None:
        repo = f"{request.path_params['owner']}/{request.path_params['name']}".lower()
        if repo not in self.issues or (repo == PRIVATE and not authenticated):
            return None
        return repo

    def _html(self, repo: str, kind: str, number: int) -> str:
        return f"https://github.com/{repo}/{kind}/{number}"

    def _as_issue(self, repo: str, item: dict[str, Any]) -> dict[str, Any]:
        keys = ("number", "title", "state", "user", "body", "labels", "comments")
        out = {key: item[key] for key in keys}
        out["repository_url"] = f"{self.api_base}/repos/{repo}"
        out["html_url"] = self._html(repo, "issues", item["number"])
        if "pull_request" in item:
            out["pull_request"] = dict(item["pull_request"])
        return out

    def _as_pull(self, repo: str, item: dict[str, Any], *, full: bool) -> dict[str, Any]:
        keys = ["number", "title", "state", "user", "body", "labels", "head", "base", "draft"]
        keys.append("merged_at")
        if full:  # only GET /pulls/{n} has the counts
            keys += ["additions", "deletions", "changed_files", "commits"]
        out = {key: item[key] for key in keys}
        out["html_url"] = self._html(repo, "pull", item["number"])
        return out

    def _find(self, repo: str, number: int) -> dict[str, Any] | None:
        return next((i for i in self.issues[repo] if i["number"] == number), None)

    # ----- endpoints ---------------------------------------------------------------------------

    async def _get_issue(self, request: Request) -> Response:
        authenticated, refused = await self._begin(request)
        repo = self._repo(request, authenticated)
        item = self._find(repo, request.path_params["number"]) if repo else None
        if refused or repo is None or item is None:
            return refused or _error(404, "Not Found")
        return JSONResponse(self._as_issue(repo, item))

    async def _list_issues(self, request: Request) -> Response:
        authenticated, refused = await self._begin(request)
        repo = self._repo(request, authenticated)
        if refused or repo is None:
            return refused or _error(404, "Not Found")
        state = request.query_params.get("state", "open")
        per_page = int(request.query_params.get("per_page", "30"))
        items = [i for i in self.issues[repo] if state == "all" or i["state"] == state]
        return JSONResponse([self._as_issue(repo, i) for i in items[:per_page]])

    async def _get_pull(self, request: Request) -> Response:
        authenticated, refused = await self._begin(request)
        repo = self._repo(request, authenticated)
        item = self._find(repo, request.path_params["number"]) if repo else None
        if refused or repo is None or item is None or "pull_request" not in item:
            return refused or _error(404, "Not Found")
        return JSONResponse(self._as_pull(repo, item, full=True))

    async def _list_pulls(self, request: Request) -> Response:
        authenticated, refused = await self._begin(request)
        repo = self._repo(request, authenticated)
        if refused or repo is None:
            return refused or _error(404, "Not Found")
        state = request.query_params.get("state", "open")
        items = [
            i
            for i in self.issues[repo]
            if "pull_request" in i and (state == "all" or i["state"] == state)
        ]
        return JSONResponse([self._as_pull(repo, i, full=False) for i in items])

    async def _contents(self, request: Request) -> Response:
        authenticated, refused = await self._begin(request)
        repo = self._repo(request, authenticated)
        if refused or repo is None:
            return refused or _error(404, "Not Found")
        ref = request.query_params.get("ref", "main")
        files = FILES[repo].get(ref)
        if files is None:
            return _error(404, f"No commit found for the ref {ref}")
        path = request.path_params.get("path", "").strip("/")
        if path in files:
            data = files[path]
            encoded = base64.encodebytes(data).decode()  # newline every 76 chars, as GitHub does
            return JSONResponse(
                {
                    "type": "file",
                    "encoding": "base64",
                    "size": len(data),
                    "name": path.rsplit("/", 1)[-1],
                    "path": path,
                    "content": encoded,
                    "sha": "0" * 40,
                    "html_url": f"https://github.com/{repo}/blob/{ref}/{path}",
                }
            )
        inside = path + "/" if path else ""
        entries: dict[str, str] = {}
        for name in files:
            if name.startswith(inside):
                rest = name[len(inside) :]
                entries[rest.split("/")[0]] = "dir" if "/" in rest else "file"
        if not entries:
            return _error(404, "Not Found")
        listing = [
            {"type": kind, "name": name, "path": inside + name} for name, kind in entries.items()
        ]
        return JSONResponse(listing)

    async def _comment(self, request: Request) -> Response:
        authenticated, refused = await self._begin(request)
        if refused:
            return refused
        if not authenticated:
            return _error(401, "Requires authentication")
        repo = self._repo(request, authenticated)
        number = request.path_params["number"]
        if repo is None or self._find(repo, number) is None:
            return _error(404, "Not Found")
        body = (await request.json()).get("body")
        with self._lock:
            self.comments.append((repo, number, body))
            comment_id = len(self.comments)
        url = f"{self._html(repo, 'issues', number)}#issuecomment-{comment_id}"
        return JSONResponse(
            {"id": comment_id, "html_url": url, "body": body, "user": {"login": "orch-bot"}},
            status_code=201,
        )

    async def _search(self, request: Request) -> Response:
        authenticated, refused = await self._begin(request)
        if refused:
            return refused
        terms = request.query_params.get("q", "").split()
        repos = {t[5:].lower() for t in terms if t.startswith("repo:")}
        kinds = {t[3:] for t in terms if t.startswith("is:")}
        states = {t[6:] for t in terms if t.startswith("state:")}
        words = [t.lower() for t in terms if ":" not in t]
        found = []
        for repo, items in self.issues.items():
            if (repos and repo not in repos) or (repo == PRIVATE and not authenticated):
                continue
            for item in items:
                kind = "pr" if "pull_request" in item else "issue"
                text = (item["title"] + " " + item["body"]).lower()
                if (kinds and kind not in kinds) or (states and item["state"] not in states):
                    continue
                if all(word in text for word in words):
                    found.append(self._as_issue(repo, item))
        per_page = int(request.query_params.get("per_page", "30"))
        return JSONResponse(
            {"total_count": len(found), "incomplete_results": False, "items": found[:per_page]}
        )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
    return JSONResponse(body, status_code=status, headers=headers)
