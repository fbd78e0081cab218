"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.auth import ACCESS_LOG_FILTER, check_auth_settings, warn_if_locked_out
from api.errors import install_error_handlers
from api.guards import install_browser_guards
from api.limits import RequestLimits
from api.metrics import ApiMetrics, HttpMetrics
from api.openapi import install_openapi
from api.routes import (
    agents,
    control,
    health,
    mcp_servers,
    metrics,
    providers,
    routes,
    runs,
    session,
    stats,
    threads,
    tokens,
    tools,
)
from api.sse import EventHub
from api.web import install_web_app
from config_store.db import make_engine, make_session_factory
from config_store.readiness import DatabaseCheck
from core.settings import Settings, get_settings
from core.tracing import tracer_provider
from temporal.client import connect
from temporal.workers import WorkerCheck

API_VERSION = "0.1.0"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_auth_settings(settings)
    logging.getLogger("uvicorn.access").addFilter(ACCESS_LOG_FILTER)  # once: one instance

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.database_check = DatabaseCheck(engine)
        app.state.session_factory = make_session_factory(engine)
        # The Temporal client is lazy: the API starts (and answers /healthz and the config
        # routes) while Temporal is still coming up; run calls fail until it is reachable.
        app.state.temporal = await connect(settings, lazy=True)
        app.state.events = EventHub(app.state.temporal)
        app.state.workers = WorkerCheck(app.state.temporal)
        await asyncio.to_thread(warn_if_locked_out, settings, app.state.session_factory)
        try:
            yield
        finally:
            await app.state.events.close()
            engine.dispose()

    app = FastAPI(
        title="orch",
        summary="A durable agent orchestrator built on Temporal",
        version=API_VERSION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = ApiMetrics(
        session_factory=lambda: getattr(app.state, "session_factory", None),
        hub=lambda: getattr(app.state, "events", None),
    )
    install_error_handlers(app)
    # Added last, run first: the request timer, the browser guards (Host, Origin, content
    # type), then the limits.
    app.add_middleware(RequestLimits, max_bytes=settings.max_request_bytes)
    install_browser_guards(app, settings)
    app.add_middleware(HttpMetrics, metrics=app.state.metrics)
    for module in (
        health,
        session,
        providers,
        tools,
        mcp_servers,
        agents,
        routes,
        runs,
        control,
        threads,
        stats,
        tokens,
        metrics,
    ):
        app.include_router(module.router)
    install_web_app(app, settings.web_dist)
    install_openapi(app)
    _instrument(app)
    return app


def _instrument(app: FastAPI) -> None:
    """While tracing is on (core/tracing.py): a server span per request, continuing the trace
    of an incoming `traceparent` header; the Temporal calls a request makes are its children."""
    provider = tracer_provider()
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # Not a span per ASGI message too: an event stream would make one per event.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, exclude_spans=["receive", "send"]
    )
