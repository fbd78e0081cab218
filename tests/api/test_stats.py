"""GET /v1/stats/agents: the overview's figures, from the runs table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from config_store.db import make_engine, make_session_factory
from config_store.models import Run


def seed_runs(db_url: str) -> None:
    now = datetime.now(UTC)
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine).begin() as session:
            for i, (ago, status) in enumerate(
                [
                    (timedelta(minutes=10), "completed"),
                    (timedelta(minutes=20), "failed"),
                    (timedelta(minutes=5), None),
                    (timedelta(hours=3), "completed"),
                    (timedelta(days=3), "stopped"),
                ]
            ):
                created = now - ago
                session.add(
                    Run(
                        run_id=f"r{i}",
                        agent_name="demo",
                        agent_version=1,
                        route_key=None,
                        input="x",
                        created_at=created,
                        status=status,
                        finished_at=created + timedelta(seconds=2) if status else None,
                        steps=3 if status else None,
                        total_tokens=100 if status else None,
                        cost_usd=0.25 if status else None,
                    )
                )
    finally:
        engine.dispose()


def test_agent_stats_by_window(client: TestClient, db_url: str) -> None:
    seed_runs(db_url)
    day = client.get("/v1/stats/agents")
    assert day.status_code == 200, day.text
    body = day.json()
    assert body["window"] == "24h" and set(body) == {"window", "since", "agents"}
    since = datetime.fromisoformat(body["since"])
    assert abs((datetime.now(UTC) - since) - timedelta(hours=24)) < timedelta(minutes=1)
    (demo,) = body["agents"]
    assert demo == {
        "agent": "demo",
        "runs": {"completed": 2, "stopped": 0, "failed": 1, "cancelled": 0, "unfinished": 1},
        "duration_ms": {"p50": 2000.0, "p95": 2000.0},
        "total_tokens": 300,
        "cost_usd": 0.75,
    }
    hour = client.get("/v1/stats/agents", params={"window": "1h"}).json()
    assert hour["agents"][0]["runs"]["completed"] == 1
    week = client.get("/v1/stats/agents", params={"window": "7d"}).json()
    assert week["agents"][0]["runs"]["stopped"] == 1 and week["agents"][0]["total_tokens"] == 400


def test_an_empty_table_and_a_bad_window(client: TestClient) -> None:
    assert client.get("/v1/stats/agents", params={"window": "1h"}).json()["agents"] == []
    bad = client.get("/v1/stats/agents", params={"window": "30d"})
    assert (bad.status_code, bad.json()["detail"][0]["field"]) == (422, "query.window")
