"""Per-agent figures of the runs started in a window, from the runs table alone.

Two aggregate queries whatever the table's size: counts and sums by (agent, status), and the
p50/p95 durations by agent, ranked in SQL (window functions, on SQLite and Postgres alike), so
what comes back is a few rows per agent, never the runs. Both read the runs started since
`since` through ix_runs_created_at_agent_name_status. A percentile is the nearest-rank one: the
duration at rank ceil(p/100 * n) of the agent's n finished runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Float, case, cast, func, select
from sqlalchemy.orm import Session

from config_store.models import Run
from workflows.kinds import OUTCOME_STATUSES

UNFINISHED = "unfinished"  # no outcome recorded (yet): running, or closed from outside the loop


@dataclass
class AgentStats:
    agent: str
    runs: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys((*OUTCOME_STATUSES, UNFINISHED), 0)
    )
    p50_ms: float | None = None
    p95_ms: float | None = None
    total_tokens: int = 0
    cost_usd: float = 0.0


def duration_ms(dialect: str) -> ColumnElement[float]:
    """finished_at - created_at in milliseconds, in the dialect's own date arithmetic."""
    if dialect == "sqlite":
        days = func.julianday(Run.finished_at) - func.julianday(Run.created_at)
        return cast(days * 86_400_000.0, Float)
    return cast(func.extract("epoch", Run.finished_at - Run.created_at) * 1000.0, Float)


def _rank(percent: int, n: ColumnElement[int]) -> ColumnElement[int]:
    """ceil(percent/100 * n) in integer arithmetic."""
    return (percent * n + 99) // 100


def agent_stats(session: Session, since: datetime) -> list[AgentStats]:
    """The figures of every agent with a run started at or after `since`, by name."""
    found: dict[str, AgentStats] = {}
    totals = (
        select(
            Run.agent_name,
            Run.status,
            func.count(),
            func.coalesce(func.sum(Run.total_tokens), 0),
            func.coalesce(func.sum(Run.cost_usd), 0.0),
        )
        .where(Run.created_at >= since)
        .group_by(Run.agent_name, Run.status)
    )
    for agent, status, count, tokens, cost in session.execute(totals):
        stats = found.setdefault(agent, AgentStats(agent))
        stats.runs[status if status is not None else UNFINISHED] += int(count)
        stats.total_tokens += int(tokens or 0)
        stats.cost_usd += float(cost or 0.0)

    ms = duration_ms(session.get_bind().dialect.name)
    ranked = (
        select(
            Run.agent_name.label("agent"),
            ms.label("ms"),
            func.row_number().over(partition_by=Run.agent_name, order_by=ms).label("rank"),
            func.count().over(partition_by=Run.agent_name).label("n"),
        )
        .where(Run.created_at >= since, Run.finished_at.is_not(None))
        .subquery()
    )
    p50, p95 = _rank(50, ranked.c.n), _rank(95, ranked.c.n)
    percentiles = (
        select(
            ranked.c.agent,
            func.max(case((ranked.c.rank == p50, ranked.c.ms))),
            func.max(case((ranked.c.rank == p95, ranked.c.ms))),
        )
        .where((ranked.c.rank == p50) | (ranked.c.rank == p95))
        .group_by(ranked.c.agent)
    )
    for agent, p50_ms, p95_ms in session.execute(percentiles):
        stats = found.setdefault(agent, AgentStats(agent))
        stats.p50_ms = round(float(p50_ms), 1) if p50_ms is not None else None
        stats.p95_ms = round(float(p95_ms), 1) if p95_ms is not None else None
    return [found[name] for name in sorted(found)]


@dataclass(frozen=True)
class OutcomeTotals:
    """The runs of one agent with one outcome (None: not recorded yet), since the table began."""

    agent: str
    status: str | None
    runs: int
    total_tokens: int
    cost_usd: float


def outcome_totals(session: Session) -> list[OutcomeTotals]:
    """Every run in the table by (agent, status): one GROUP BY, a few rows per agent (the
    API's /metrics reads it at scrape time, api/metrics.py)."""
    totals = select(
        Run.agent_name,
        Run.status,
        func.count(),
        func.coalesce(func.sum(Run.total_tokens), 0),
        func.coalesce(func.sum(Run.cost_usd), 0.0),
    ).group_by(Run.agent_name, Run.status)
    return [
        OutcomeTotals(agent, status, int(count), int(tokens or 0), float(cost or 0.0))
        for agent, status, count, tokens, cost in session.execute(totals)
    ]
