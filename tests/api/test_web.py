"""The built web app under /ui: files, client-side routes, caching, security headers, no token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web import CSP
from core.settings import REPO_ROOT, Settings
from tests.support.auth import settings_for

INDEX = "<!doctype html><title>orch</title><div id=root></div>"


def client_for(db_url: str, dist: Path) -> TestClient:
    return TestClient(create_app(settings_for(db_url, web_dist=dist)), follow_redirects=False)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-abc123.js").write_text("console.log(1)")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside")
    return root


@pytest.fixture
def web(db_url: str, dist: Path) -> Iterator[TestClient]:
    with client_for(db_url, dist) as client:
        yield client


def assert_secured(headers: httpx.Headers) -> None:
    assert headers.get("content-security-policy") == CSP
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "no-referrer"


def test_the_root_redirects_to_the_app(web: TestClient) -> None:
    answer = web.get("/")
    assert (answer.status_code, answer.headers["location"]) == (307, "/ui/")


def test_files_are_served_as_they_are_and_assets_forever(web: TestClient) -> None:
    asset = web.get("/ui/assets/index-abc123.js")
    assert asset.status_code == 200 and asset.text == "console.log(1)"
    assert "javascript" in asset.headers["content-type"]
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert_secured(asset.headers)
    icon = web.get("/ui/favicon.svg")
    assert icon.status_code == 200 and icon.text == "<svg/>"
    assert web.head("/ui/assets/index-abc123.js").status_code == 200


def test_every_other_path_is_the_index_and_is_revalidated(web: TestClient) -> None:
    for path in ("/ui", "/ui/", "/ui/index.html", "/ui/agents/demo", "/ui/runs/r-1?tab=events"):
        answer = web.get(path)
        assert answer.status_code == 200, path
        assert answer.text == INDEX and answer.headers["content-type"].startswith("text/html")
        assert answer.headers["cache-control"] == "no-cache"
        assert_secured(answer.headers)
    missing = web.get("/ui/assets/gone-123.js")  # not a page: a 404, not the index
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_no_path_leaves_the_folder(web: TestClient) -> None:
    for path in (
        "/ui/../secret.txt",
        "/ui/%2e%2e/secret.txt",
        "/ui/..%2fsecret.txt",
        "/ui/%2e%2e%2fsecret.txt",
        "/ui/assets/..%2f..%2fsecret.txt",
        "/ui//etc/passwd",
        "/ui/%00",
    ):
        answer = web.get(path)
        assert "outside" not in answer.text and "root:" not in answer.text, path


def test_a_link_out_of_the_folder_is_not_followed(db_url: str, dist: Path) -> None:
    (dist / "leak.txt").symlink_to(dist.parent / "secret.txt")
    with client_for(db_url, dist) as client:
        assert "outside" not in client.get("/ui/leak.txt").text


def test_the_app_needs_no_token_and_is_not_documented(web: TestClient) -> None:
    assert web.get("/ui/").status_code == 200  # no Authorization header sent
    paths = web.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/ui")]


def test_an_unbuilt_app_says_how_to_build_it(db_url: str, tmp_path: Path) -> None:
    with client_for(db_url, tmp_path / "nothing") as client:
        for path in ("/ui/", "/ui/runs", "/ui/assets/x.js"):
            answer = client.get(path)
            assert answer.status_code == 503, path
            assert answer.headers["content-type"].startswith("text/html")
            assert "make up" in answer.text and "make web" in answer.text
            assert_secured(answer.headers)


def test_the_default_is_the_source_trees_web_dist() -> None:
    assert Settings().web_dist == REPO_ROOT / "web" / "dist"
    assert (REPO_ROOT / "core" / "settings.py").is_file()
