"""Figures for the overview: /v1/stats/agents, from the runs table (never Temporal histories)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth import READ
from api.deps import SessionDep
from config_store.stats import agent_stats

router = APIRouter(prefix="/v1/stats", tags=["stats"])

StatsWindow = Literal["1h", "24h", "7d"]
WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


class Durations(BaseModel):
    p50: float | None = Field(description="Milliseconds; null: no finished run in the window.")
    p95: float | None


class AgentFigures(BaseModel):
    agent: str
    runs: dict[str, int] = Field(
        description="Runs started in the window by how they ended: `completed`, `stopped`, "
        "`failed`, `cancelled`, and `unfinished` (no outcome recorded: still running, or "
        "closed from outside the loop, e.g. terminated). Every key is always present."
    )
    duration_ms: Durations = Field(
        description="Of the finished ones: from the start (the API's record) to the outcome."
    )
    total_tokens: int
    cost_usd: float


class AgentStatsRead(BaseModel):
    window: StatsWindow
    since: datetime = Field(description="The window's start: runs started at or after it count.")
    agents: list[AgentFigures] = Field(description="Agents with a run in the window, by name.")


@router.get("/agents", dependencies=[READ])
def get_agent_stats(
    session: SessionDep,
    window: Annotated[StatsWindow, Query(description="How far back: 1h, 24h or 7d.")] = "24h",
) -> AgentStatsRead:
    """Per agent: runs by how they ended, p50/p95 duration, tokens and cost of the runs started
    in the window, from the runs table."""
    since = datetime.now(UTC) - WINDOWS[window]
    return AgentStatsRead(
        window=window,
        since=since,
        agents=[
            AgentFigures(
                agent=s.agent,
                runs=s.runs,
                duration_ms=Durations(p50=s.p50_ms, p95=s.p95_ms),
                total_tokens=s.total_tokens,
                cost_usd=round(s.cost_usd, 8),
            )
            for s in agent_stats(session, since)
        ],
    )
