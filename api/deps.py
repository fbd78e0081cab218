"""`Annotated` dependency aliases. Everything comes from `app.state`, set up by the lifespan.

The accessors of `app.state` are `async def` although they never await: FastAPI runs a plain
`def` dependency in its thread pool, and a thread hop per accessor per request is what these
would otherwise cost (three of them on `POST /v1/runs`). Only `get_session`, which talks to the
database, stays a thread-pool dependency."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client

from api.sse import EventHub
from core.settings import Settings
from temporal.workers import WorkerCheck


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed if the handler returns, rolled back if it raises."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


async def get_session_factory(request: Request) -> sessionmaker[Session]:
    """For handlers that manage their own transactions (e.g. around awaits)."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": commit before the response is sent, so a 2xx means the write is durable.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


async def get_events(request: Request) -> EventHub:
    hub: EventHub = request.app.state.events
    return hub


async def get_workers(request: Request) -> WorkerCheck:
    workers: WorkerCheck = request.app.state.workers
    return workers


TemporalDep = Annotated[Client, Depends(get_temporal)]
WorkersDep = Annotated[WorkerCheck, Depends(get_workers)]
EventsDep = Annotated[EventHub, Depends(get_events)]
