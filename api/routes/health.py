"""Liveness and readiness."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from api.deps import TemporalDep
from config_store.readiness import DatabaseCheck

router = APIRouter(tags=["health"])

READY_TIMEOUT_S = 3.0


class NotReady(Exception):
    """A part answered, and what it said means the API should not take traffic."""


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
    """The API can serve runs (readiness): the database answers, is the file it opened (SQLite)
    and is migrated to the code's head; Temporal is healthy. 503 with the failing part
    otherwise."""
    database_check: DatabaseCheck = request.app.state.database_check

    def check_database() -> None:
        problem = database_check.problem()
        if problem is not None:
            raise NotReady(problem)

    async def check(work: Awaitable[object]) -> str:
        try:
            await asyncio.wait_for(work, READY_TIMEOUT_S)
            return "ok"
        except NotReady as err:
            return str(err)[:300]
        except TimeoutError:
            return f"no answer within {READY_TIMEOUT_S:g} s"
        except Exception as err:
            return f"{type(err).__name__}: {err}"[:300]

    database, temporal = await asyncio.gather(
        check(asyncio.to_thread(check_database)), check(client.service_client.check_health())
    )
    ready = database == "ok" and temporal == "ok"
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="ready" if ready else "not_ready", database=database, temporal=temporal)
