"""GET /metrics: who may read it, what it counts, and the figures after a real run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from config_store.db import make_engine, make_session_factory
from config_store.runs import insert_run, record_outcome
from core.settings import Settings
from tests.support.auth import ADMIN_TOKEN, AUTH, make_token, settings_for
from tests.support.metrics import Sample, samples, total
from tests.support.sse import events_of

DURATION = "orch_http_request_duration_seconds"


def scrape(client: TestClient, **headers: str) -> dict[str, list[Sample]]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(response.text)


def test_metrics_need_a_read_token_by_default(sqlite_url: str) -> None:
    with TestClient(create_app(settings_for(sqlite_url))) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "unauthorized"
        unknown = client.get("/metrics", headers={"Authorization": "Bearer orch_nope_nope"})
        assert unknown.status_code == 401
        reader = make_token(client, "scraper", "read")["token"]
        scraped = scrape(client, Authorization=f"Bearer {reader}")
        assert "orch_sse_connections" in scraped
        # Kept out of the OpenAPI document (and the web app's client built from it).
        assert "/metrics" not in client.get("/openapi.json", headers=AUTH).json()["paths"]


def test_metrics_public_opens_the_route_and_nothing_else(sqlite_url: str) -> None:
    with TestClient(create_app(settings_for(sqlite_url, metrics_public=True))) as client:
        assert "orch_sse_connections" in scrape(client)
        assert client.get("/v1/agents").status_code == 401


def test_requests_are_timed_by_route_template_method_and_status(sqlite_url: str) -> None:
    with TestClient(create_app(settings_for(sqlite_url)), headers=AUTH) as client:
        for name in ("nope", "other"):
            assert client.get(f"/v1/agents/{name}").status_code == 404
        assert client.get("/no/such/path").status_code == 404
        assert client.get("/v1/agents").status_code == 200
        assert client.get("/v1/agents", headers={"Authorization": ""}).status_code == 401
        assert client.get("/v1/agents", headers={"Host": "evil.example"}).status_code == 400
        assert client.request("PROPFIND", "/v1/agents").status_code == 405
        scraped = scrape(client)
    count = f"{DURATION}_count"
    assert total(scraped, count, route="/v1/agents/{name}", method="GET", status="404") == 2
    assert total(scraped, count, route="/v1/agents", method="GET", status="200") == 1
    assert total(scraped, count, route="/v1/agents", method="GET", status="401") == 1
    assert total(scraped, count, route="unmatched", status="404") == 1
    assert total(scraped, count, route="unmatched", method="GET", status="400") == 1  # bad Host
    assert total(scraped, count, route="/v1/agents", method="other", status="405") == 1
    routes = {labels["route"] for labels, _ in scraped[count]}
    assert not any("nope" in route or "no/such" in route for route in routes), routes
    buckets = scraped[f"{DURATION}_bucket"]
    assert {labels["le"] for labels, _ in buckets} >= {"0.005", "1.0", "+Inf"}


def add_run(db_url: str, run_id: str, agent: str, outcome: tuple[str, int, float] | None) -> None:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine).begin() as session:
            insert_run(session, run_id, agent, 1, None, "x")
            if outcome is not None:
                status, tokens, cost = outcome
                session.flush()
                record_outcome(
                    session,
                    run_id,
                    status=status,  # type: ignore[arg-type]
                    finished_at=datetime.now(UTC),
                    steps=2,
                    total_tokens=tokens,
                    cost_usd=cost,
                    error=None,
                )
    finally:
        engine.dispose()


def test_run_figures_come_from_the_runs_table_read_once_per_interval(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_run(db_url, "r1", "alpha", ("completed", 100, 0.25))
    add_run(db_url, "r2", "alpha", ("failed", 10, 0.5))
    add_run(db_url, "r3", "alpha", None)
    add_run(db_url, "r4", "beta", ("completed", 7, 0.0))
    with TestClient(create_app(settings_for(db_url)), headers=AUTH) as client:
        scraped = scrape(client)
        assert total(scraped, "orch_runs_finished_total", agent="alpha", status="completed") == 1
        assert total(scraped, "orch_runs_finished_total", agent="alpha", status="failed") == 1
        assert total(scraped, "orch_runs_finished_total", agent="beta") == 1
        assert total(scraped, "orch_runs_unfinished", agent="alpha") == 1
        assert total(scraped, "orch_runs_unfinished", agent="beta") == 0
        assert "orch_runs_unfinished" in scraped and any(
            labels == {"agent": "beta"} for labels, _ in scraped["orch_runs_unfinished"]
        )
        assert total(scraped, "orch_run_tokens_total", agent="alpha") == 110
        assert total(scraped, "orch_run_cost_usd_total", agent="alpha") == pytest.approx(0.75)

        # Within RUNS_CACHE_S a scrape does not read the table again...
        add_run(db_url, "r5", "beta", ("stopped", 3, 0.0))
        assert total(scrape(client), "orch_runs_finished_total", agent="beta") == 1
        # ...after it, it does.
        monkeypatch.setattr("api.metrics.RUNS_CACHE_S", 0.0)
        again = scrape(client)
        assert total(again, "orch_runs_finished_total", agent="beta", status="stopped") == 1
        assert total(again, "orch_runs_finished_total", agent="beta") == 2


async def scrape_until(
    http: httpx.AsyncClient, ready: Callable[[dict[str, list[Sample]]], bool], what: str
) -> dict[str, list[Sample]]:
    """Scrape until `ready` (at most 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        response = await http.get("/metrics")
        assert response.status_code == 200, response.text
        scraped = samples(response.text)
        if ready(scraped):
            return scraped
        if time.monotonic() > deadline:
            raise AssertionError(f"/metrics never showed {what}: {response.text}")
        await asyncio.sleep(0.1)


@pytest.mark.timeout(90)
async def test_after_a_run_through_the_api_metrics_has_its_counters(
    api_url: str, orch_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("api.metrics.RUNS_CACHE_S", 0.1)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=headers) as http:
        idle = await scrape_until(http, lambda s: True, "anything")
        assert total(idle, "orch_sse_connections") == 0
        assert total(idle, "orch_runs_started_total", agent="demo") == 0

        started = await http.post("/v1/runs", json={"agent": "demo", "input": "12*7?"})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        opened = time.perf_counter()
        seen: list[Any] = []
        async with http.stream("GET", f"/v1/runs/{run_id}/events") as response:
            async for event in events_of(response):
                seen.append(event.event)
                if len(seen) == 1:  # the stream is open, its run followed
                    following = await scrape_until(
                        http,
                        lambda s: total(s, "orch_sse_connections") == 1,
                        "one open event stream",
                    )
                    assert total(following, "orch_sse_runs_followed") == 1
        open_s = time.perf_counter() - opened
        assert seen[-1] == "run.completed"

        after = await scrape_until(
            http,
            lambda s: (
                total(s, "orch_runs_finished_total", agent="demo", status="completed") == 1
                and total(s, "orch_sse_connections") == 0
            ),
            "the finished run and no open stream",
        )
    assert total(after, "orch_sse_runs_followed") == 0
    assert total(after, "orch_runs_started_total", agent="demo") == 1
    assert total(after, "orch_run_tokens_total", agent="demo") > 0
    assert total(after, "orch_runs_unfinished", agent="demo") == 0
    count = f"{DURATION}_count"
    assert total(after, count, route="/v1/runs", method="POST", status="202") == 1
    events = {"route": "/v1/runs/{run_id}/events", "method": "GET", "status": "200"}
    assert total(after, count, **events) == 1
    # A stream is timed to its start, not to its end.
    assert total(after, f"{DURATION}_sum", **events) < open_s
