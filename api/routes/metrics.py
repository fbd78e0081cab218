"""GET /metrics: the API's figures in the Prometheus text format (api/metrics.py).

Left out of the OpenAPI document (it is for a scraper, not a client). It needs a `read` token,
like the other read routes, unless METRICS_PUBLIC is set.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, SecurityScopes
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from api.auth import authenticate, bearer, session_cookie
from api.metrics import ApiMetrics
from core.settings import Settings

router = APIRouter(include_in_schema=False)


async def metrics_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> None:
    """A `read` token (or a session of one), unless METRICS_PUBLIC opens the route."""
    settings: Settings = request.app.state.settings
    if settings.metrics_public:
        return
    await authenticate(request, SecurityScopes(["read"]), credentials, cookie)


@router.get("/metrics", dependencies=[Depends(metrics_access)])
def metrics(request: Request) -> Response:
    """Every figure of this API process (a thread: the runs table may be read)."""
    registry: ApiMetrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_PLAIN_0_0_4)
