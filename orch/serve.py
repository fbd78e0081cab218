"""Long-running processes: the worker, the API, and `orch up` which runs everything at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Generator
from pathlib import Path

import uvicorn

from core.errors import OrchError
from core.settings import Settings

log = logging.getLogger("orch")
LOCAL_HOSTS = ("127.0.0.1", "0.0.0.0", "localhost")


class _Server(uvicorn.Server):
    """uvicorn, minus its own signal handling: the caller decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve_until(stop: asyncio.Event, *tasks: asyncio.Task[None]) -> None:
    """Wait for a signal, or for one of `tasks` to end (which is then re-raised)."""
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({stopper, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    for task in done:
        if task is not stopper:
            task.result()


def _api_server(settings: Settings) -> _Server:
    from api.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
        lifespan="on",
        # Open SSE streams end with their run; on shutdown, don't wait on them for long.
        timeout_graceful_shutdown=5,
    )
    return _Server(config)


async def run_api(settings: Settings) -> None:
    server = _api_server(settings)
    stop = _stop_on_signals()
    task = asyncio.create_task(server.serve())
    await _serve_until(stop, task)
    server.should_exit = True
    await task


async def run_worker(settings: Settings) -> None:
    from temporal.client import connect
    from temporal.worker import build_worker, transcript_store

    client = await connect(settings)
    worker = build_worker(client, settings, transcript_store(settings))
    stop = _stop_on_signals()
    task = asyncio.create_task(worker.run())
    log.info("worker polling task queue %s", settings.temporal_task_queue)
    await _serve_until(stop, task)
    await worker.shutdown()
    await task  # the worker's plugins clean up after shutdown (MCP sessions close)


def ensure_port_free(host: str, port: int, what: str, env: str) -> None:
    """Refuse to start rather than talk to whatever already listens there."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise OrchError(
                f"port {port} for the {what} is in use: stop what holds it, or set {env}",
                code="port_in_use",
            ) from None


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def run_up(settings: Settings, seed_file: Path | None) -> None:
    """Everything on one machine: dev server, migrations, example config, worker and API."""
    from config_store.db import make_engine, make_session_factory
    from config_store.migrate import upgrade
    from config_store.transcript import TranscriptStore
    from services.local_token import ensure_local_admin
    from services.seed import is_empty, load_config_file
    from temporal.client import connect
    from temporal.devserver import DevServer
    from temporal.worker import build_worker

    for port, what, env in (
        (settings.dev_server_port, "Temporal dev server", "DEV_SERVER_PORT"),
        (settings.dev_server_ui_port, "Temporal Web UI", "DEV_SERVER_UI_PORT"),
        (settings.api_port, "API", "API_PORT"),
    ):
        ensure_port_free(settings.api_host if env == "API_PORT" else "127.0.0.1", port, what, env)
    stop = _stop_on_signals()
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    if seed_file is not None and await asyncio.to_thread(is_empty, factory):
        await asyncio.to_thread(load_config_file, factory, seed_file)
        _say(f"loaded the example configuration from {seed_file}")

    admin_token: str | None = None
    if settings.api_auth == "on" and not settings.orch_admin_token:
        admin_token, made = await asyncio.to_thread(
            ensure_local_admin, factory, settings.local_token_file
        )
        if made:
            _say(f"made a local admin token, kept in {settings.local_token_file} (mode 0600)")

    dev = DevServer(
        port=settings.dev_server_port,
        ui_port=settings.dev_server_ui_port,
        db_file=settings.dev_server_db,
    )
    await dev.start()
    try:
        settings = settings.model_copy(
            update={
                "temporal_address": dev.address,
                "temporal_ui_url": f"http://localhost:{settings.dev_server_ui_port}",
            }
        )
        client = await connect(settings)
        worker = build_worker(client, settings, TranscriptStore(factory))
        server = _api_server(settings)
        worker_task = asyncio.create_task(worker.run())
        api_task = asyncio.create_task(server.serve())
        while not server.started and not api_task.done():
            await asyncio.sleep(0.05)
        if server.started:
            host = "localhost" if settings.api_host in LOCAL_HOSTS else settings.api_host
            _say(f"Temporal Web UI  http://localhost:{settings.dev_server_ui_port}")
            _say(f"API              http://{host}:{settings.api_port}")
            _say(f"API docs         http://{host}:{settings.api_port}/docs")
            if admin_token is not None:
                _say(f"Admin token      {admin_token}")
                _say("                 (`orch token local` prints it; send it as")
                _say("                  `Authorization: Bearer <token>`)")
            elif settings.api_auth == "off":
                _say("Auth             off (API_AUTH=off): any local program may use the API")
            _say("Ready. Ctrl-C stops everything.")
        try:
            await _serve_until(stop, worker_task, api_task)
        finally:
            _say("stopping...")
            server.should_exit = True
            await asyncio.gather(api_task, return_exceptions=True)
            await worker.shutdown()
            await asyncio.gather(worker_task, return_exceptions=True)  # plugins clean up
    finally:
        dev.stop()
        engine.dispose()
