"""Real HTTP servers that speak search APIs' wire formats, for tests of the `web_search` kind.

`FakeSearchServer` answers both
- SearXNG: `GET /search?q=...&format=json` (the whole page, about 20 results, whatever is asked;
  403 when `json_enabled` is false, as an instance without `json` in `search.formats` does),
- Brave Search: `GET /res/v1/web/search?q=...&count=N` with `X-Subscription-Token`
  (401 in Brave's error shape for a wrong key, 422 for a count over 20),
from a small corpus of documents matched by query words. Every request is recorded (path, query
parameters, headers). It runs in a background thread on 127.0.0.1 (`LocalServer`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.local_server import LocalServer

BRAVE_KEY = "brave-test-KEY-0123456789"


@dataclass(frozen=True)
class RecordedQuery:
    wire: str  # "searxng" or "brave"
    path: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-case names


@dataclass
class Doc:
    title: str
    url: str
    text: str
    engines: list[str] = field(default_factory=lambda: ["duckduckgo", "wikipedia"])


def default_corpus() -> list[Doc]:
    docs = [
        Doc(
            "Temporal: durable execution",
            "https://temporal.io/",
            "Temporal   is a durable\n execution platform &amp; workflow engine.",
        ),
        Doc("SearXNG documentation", "https://docs.searxng.org/", "A privacy-respecting search."),
    ]
    docs += [
        Doc(f"Durable page {n}", f"https://example.com/durable/{n}", f"Durable result {n}. " * 40)
        for n in range(1, 24)
    ]
    return docs


class FakeSearchServer(LocalServer):
    def __init__(self) -> None:
        self.corpus = default_corpus()
        self.brave_key = BRAVE_KEY
        self.json_enabled = True
        self.answers: list[Any] = []  # SearXNG `answers`
        self.suggestions: list[str] = []
        self.fault: int | None = None  # answer every request with this status
        self.echo_key = False  # Brave: answer 400 quoting the subscription token back
        self.queries: list[RecordedQuery] = []
        self._lock = threading.Lock()
        app = Starlette(
            routes=[
                Route("/search", self._searxng, methods=["GET"]),
                Route("/res/v1/web/search", self._brave, methods=["GET"]),
            ]
        )
        super().__init__(app, "fake-search")

    def _record(self, wire: str, request: Request) -> None:
        with self._lock:
            self.queries.append(
                RecordedQuery(
                    wire=wire,
                    path=request.url.path,
                    params=dict(request.query_params),
                    headers={k.lower(): v for k, v in request.headers.items()},
                )
            )

    def _matches(self, query: str) -> list[Doc]:
        words = [w.lower() for w in query.split()]
        return [d for d in self.corpus if any(w in (d.title + " " + d.text).lower() for w in words)]

    async def _searxng(self, request: Request) -> Response:
        self._record("searxng", request)
        if self.fault is not None:
            return PlainTextResponse("fault", status_code=self.fault)
        if request.query_params.get("format") != "json" or not self.json_enabled:
            return PlainTextResponse("Forbidden", status_code=403)
        query = request.query_params.get("q", "")
        docs = self._matches(query)
        results = [
            {
                "url": d.url,
                "title": d.title,
                "content": d.text,
                "engine": d.engines[0],
                "engines": d.engines,
                "positions": [i + 1],
                "score": round(2.0 / (i + 1), 3),
                "category": request.query_params.get("categories", "general"),
                "template": "default.html",
                "parsed_url": ["https", d.url.split("/")[2], "/", "", "", ""],
            }
            for i, d in enumerate(docs[:20])
        ]
        return JSONResponse(
            {
                "query": query,
                "number_of_results": len(docs),
                "results": results,
                "answers": self.answers,
                "corrections": [],
                "infoboxes": [],
                "suggestions": self.suggestions,
                "unresponsive_engines": [["google", "timeout"]],
            }
        )

    async def _brave(self, request: Request) -> Response:
        self._record("brave", request)
        if self.fault is not None:
            return _brave_error(self.fault, "FAULT", "injected fault")
        if self.echo_key:
            token = request.headers.get("x-subscription-token")
            return _brave_error(400, "INVALID", f"bad request with token {token}")
        if request.headers.get("x-subscription-token") != self.brave_key:
            return _brave_error(401, "SUBSCRIPTION_TOKEN_INVALID", "The token is invalid.")
        count = int(request.query_params.get("count", "20"))
        if not 1 <= count <= 20:
            return _brave_error(422, "VALIDATION", "count must be at most 20")
        query = request.query_params.get("q", "")
        docs = self._matches(query)[:count]
        results = [
            {
                "type": "search_result",
                "title": d.title,
                "url": d.url,
                "description": d.text.replace("Durable", "<strong>Durable</strong>"),
                "is_source_local": False,
                "language": "en",
                "profile": {"name": d.url.split("/")[2], "url": d.url},
                "meta_url": {"scheme": "https", "hostname": d.url.split("/")[2]},
            }
            for d in docs
        ]
        body: dict[str, Any] = {
            "type": "search",
            "query": {"original": query, "more_results_available": False},
            "mixed": {"type": "mixed", "main": []},
        }
        if results:
            body["web"] = {"type": "search", "results": results, "family_friendly": True}
        return JSONResponse(body)


def _brave_error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {
            "type": "ErrorResponse",
            "error": {"id": "fake", "status": status, "code": code, "detail": detail},
            "time": int(time.time()),
        },
        status_code=status,
    )
