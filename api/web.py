"""The built web app (web/dist) under /ui, and `/` sending browsers there.

Files are served as they are; any other /ui path is a client-side route and gets index.html.
Vite names the files under assets/ by their content hash, so they are cached for a year;
index.html is revalidated on every load, so a new build is picked up at once. Every answer
carries a strict Content-Security-Policy: the app loads nothing from elsewhere. These routes are
not in the OpenAPI document and need no token: the page signs in itself (POST /v1/session).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.errors import error_response

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>orch: web app not built</title></head>
<body><h1>The web app is not built</h1>
<p>Run <code>make up</code> (or <code>make web</code>) to build it into
<code>{dist}</code>, then reload this page. The API itself is up: see <a href="/docs">/docs</a>.</p>
</body></html>
"""


def _file_in(dist: Path, path: str) -> Path | None:
    """The file `path` names inside `dist`, if there is one (never one outside it)."""
    try:
        candidate = (dist / path).resolve()
    except (OSError, ValueError):  # a NUL byte, a loop of links
        return None
    if not candidate.is_relative_to(dist) or not candidate.is_file():
        return None
    return candidate


def _answer(dist: Path, path: str) -> Response:
    index = dist / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT.format(dist=dist), status_code=503)
    found = _file_in(dist, path) if path else None
    if found is not None and found != index.resolve():
        cache = IMMUTABLE if path.startswith("assets/") else "no-cache"
        return FileResponse(found, headers={"Cache-Control": cache})
    if path.startswith("assets/"):  # a missing asset is not a page of the app
        return error_response(404, "not_found", f"no file /ui/{path}")
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


def web_router(dist: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    root = dist.resolve()

    @router.api_route("/", methods=["GET", "HEAD"])
    def to_the_web_app() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    @router.api_route("/ui", methods=["GET", "HEAD"])
    @router.api_route("/ui/{path:path}", methods=["GET", "HEAD"])
    def web_app(path: str = "") -> Response:
        response = _answer(root, path)
        response.headers.update(SECURITY_HEADERS)
        return response

    return router


def install_web_app(app: FastAPI, dist: Path) -> None:
    app.include_router(web_router(dist))
