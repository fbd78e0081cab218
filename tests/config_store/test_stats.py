"""Per-agent figures from the runs table, on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from config_store.models import Run
from config_store.stats import agent_stats

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def add(
    session: Session,
    agent: str,
    *,
    ago: timedelta,
    took_ms: float | None,
    status: str | None,
    tokens: int = 10,
    cost: float = 0.01,
) -> None:
    created = NOW - ago
    finished = created + timedelta(milliseconds=took_ms) if took_ms is not None else None
    session.add(
        Run(
            run_id=f"r-{agent}-{len(session.new)}-{ago.total_seconds()}-{took_ms}",
            agent_name=agent,
            agent_version=1,
            route_key=None,
            input="x",
            created_at=created,
            status=status,
            finished_at=finished,
            steps=2 if status else None,
            total_tokens=tokens if status else None,
            cost_usd=cost if status else None,
        )
    )


def test_counts_sums_and_nearest_rank_percentiles(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory.begin() as session:
        # alpha: 20 finished runs of 100, 200, ... 2000 ms, one running, one failed
        for i in range(1, 21):
            add(session, "alpha", ago=timedelta(minutes=i), took_ms=100.0 * i, status="completed")
        add(session, "alpha", ago=timedelta(minutes=1), took_ms=None, status=None)
        add(session, "alpha", ago=timedelta(minutes=2), took_ms=50.0, status="failed", cost=0.5)
        # beta: one stopped run, and one outside the window
        add(session, "beta", ago=timedelta(minutes=30), took_ms=1234.0, status="stopped")
        add(session, "beta", ago=timedelta(hours=2), took_ms=9.0, status="cancelled")
        # gamma: only older runs: not listed
        add(session, "gamma", ago=timedelta(days=2), took_ms=1.0, status="completed")

    with session_factory() as session:
        alpha, beta = agent_stats(session, NOW - timedelta(hours=1))
    assert alpha.agent == "alpha"
    assert alpha.runs == {
        "completed": 20,
        "stopped": 0,
        "failed": 1,
        "cancelled": 0,
        "unfinished": 1,
    }
    # 21 finished durations: 50, 100, 200, ..., 2000. Rank ceil(.5*21)=11 -> 1000; ceil(.95*21)=20
    assert (alpha.p50_ms, alpha.p95_ms) == (1000.0, 1900.0)
    assert alpha.total_tokens == 210
    assert abs(alpha.cost_usd - (20 * 0.01 + 0.5)) < 1e-9
    assert beta.runs["stopped"] == 1 and beta.runs["cancelled"] == 0
    assert (beta.p50_ms, beta.p95_ms) == (1234.0, 1234.0)  # to the millisecond (SQLite's)

    with session_factory() as session:
        names = [s.agent for s in agent_stats(session, NOW - timedelta(days=7))]
    assert names == ["alpha", "beta", "gamma"]


def test_no_finished_run_has_no_percentiles(session_factory: sessionmaker[Session]) -> None:
    with session_factory.begin() as session:
        add(session, "idle", ago=timedelta(minutes=5), took_ms=None, status=None)
    with session_factory() as session:
        (idle,) = agent_stats(session, NOW - timedelta(hours=1))
    assert (idle.p50_ms, idle.p95_ms, idle.total_tokens, idle.cost_usd) == (None, None, 0, 0.0)
    assert idle.runs["unfinished"] == 1
    with session_factory() as session:
        assert agent_stats(session, NOW + timedelta(hours=1)) == []
