"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import TemporalDep

router = APIRouter(tags=["health"])

READY_TIMEOUT_S = 3.0


class Readiness(BaseModel):
    status: str  # "ready" | "not_ready"
    database: str  # "ok" or the problem
    temporal: str


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (liveness): no dependency is checked."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"model": Readiness, "description": "Not ready: the part that failed."}},
)
async def readyz(request: Request, client: TemporalDep, response: Response) -> Readiness:
    """The API can serve runs (readiness): the database answers and Temporal is healthy.
    503 with the failing part otherwise."""

    def ping_database() -> None:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def check(work: Awaitable[object]) -> str:
        try:
            await asyncio.wait_for(work, READY_TIMEOUT_S)
            return "ok"
        except Exception as err:
            return f"{type(err).__name__}: {err}"[:300]

    database = await check(asyncio.to_thread(ping_database))
    temporal = await check(client.service_client.check_health())
    ready = database == "ok" and temporal == "ok"
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="ready" if ready else "not_ready", database=database, temporal=temporal)
