"""Long-running processes: the worker, the API, and `orch up` which runs everything at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator, Generator
from pathlib import Path

import uvicorn

from core.errors import OrchError
from core.heap import freeze_startup_objects
from core.settings import Settings
from core.tracing import (
    API_SERVICE,
    UP_SERVICE,
    WORKER_SERVICE,
    configure_tracing,
    shutdown_tracing,
    traces_endpoint,
)

log = logging.getLogger("orch")
LOCAL_HOSTS = ("127.0.0.1", "0.0.0.0", "localhost")


def api_url(settings: Settings) -> str:
    """The URL a client on this machine reaches the API at."""
    host = "localhost" if settings.api_host in LOCAL_HOSTS else settings.api_host
    return f"http://{host}:{settings.api_port}"


def api_url_file(settings: Settings) -> Path:
    """Where `orch up` writes `api_url`: next to the local admin token, where the SDK and the
    CLI look for both (`.orch/api-url`, `.orch/admin-token`) when ORCH_URL is not set."""
    return settings.local_token_file.parent / "api-url"


def write_api_url(settings: Settings) -> Path:
    path = api_url_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(api_url(settings) + "\n")
    tmp.replace(path)  # a client never reads half a URL
    return path


def ready_lines(settings: Settings, admin_token: str | None) -> list[str]:
    """What `orch up` prints once everything is up. The local admin token goes in the sign-in
    link's fragment (`#token=`), which a browser never sends: it stays out of access logs."""
    api = api_url(settings)
    lines = [
        f"Temporal Web UI  http://localhost:{settings.dev_server_ui_port}",
        f"API              {api}",
        f"API docs         {api}/docs",
    ]
    if admin_token is not None:
        lines += [
            f"Web app          {api}/ui/sign-in#token={admin_token}",
            "                 (signs you in as the local admin; `orch token local` prints",
            "                  the token, for the API: `Authorization: Bearer <token>`)",
        ]
    else:
        lines.append(f"Web app          {api}/ui/")
        if settings.api_auth == "off":
            lines.append("Auth             off (API_AUTH=off): any local program may use the API")
    lines.append("Ready. Ctrl-C stops everything.")
    return lines


class _Server(uvicorn.Server):
    """uvicorn, minus its own signal handling: the caller decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class _Signals:
    """SIGINT and SIGTERM: the first asks for a clean stop (`stop`), any later one for an
    immediate one (`at_once`)."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.at_once = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: signal.Signals) -> None:
        if not self.stop.is_set():
            self.stop.set()
        elif not self.at_once.is_set():
            log.warning("%s again: stopping at once", sig.name)
            self.at_once.set()


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    """Wait until uvicorn has run the app's start-up and listens (True), or has ended (False)."""
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    return server.started


async def _serve_until(stop: asyncio.Event, *tasks: asyncio.Task[None]) -> None:
    """Wait for a signal, or for one of `tasks` to end (which is then re-raised)."""
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({stopper, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    for task in done:
        if task is not stopper:
            task.result()


# How long the API keeps an idle HTTP connection open: longer than the clients and proxies in
# front of it keep theirs (httpx 5 s, AWS's load balancers 60 s). With uvicorn's default, 5 s,
# equal to httpx's, a client could send a request on a connection the API was closing at that
# moment: in bursts of 50 POSTs over kept-alive connections, 1 to 2 in 1,000 failed with
# httpx.ReadError (docs/operations.md, "Connections").
KEEP_ALIVE_S = 75


def _api_server(settings: Settings) -> _Server:
    from api.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        # No logging config of uvicorn's own: its loggers (access lines too) propagate to the
        # handlers and format of core/logs.py, at LOG_LEVEL.
        log_config=None,
        log_level=None,
        lifespan="on",
        # httptools parses requests in C: under bench/scale.py, the one-at-a-time POST's p50 was
        # about a tenth lower than with uvicorn's pure-Python h11 (docs/architecture.md).
        http="httptools",
        # Open SSE streams end with their run; on shutdown, don't wait on them for long.
        timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    return _Server(config)


async def run_api(settings: Settings) -> None:
    async with _tracing(settings, API_SERVICE):
        server = _api_server(settings)
        signals = _Signals()
        task = asyncio.create_task(server.serve())
        if await _started(server, task):
            freeze_startup_objects()
        await _serve_until(signals.stop, task)
        await _stop_api(server, task, signals.at_once)


@contextlib.asynccontextmanager
async def _tracing(settings: Settings, service_name: str) -> AsyncIterator[None]:
    """Traces for the block, if the settings ask for them (core/tracing.py); what is left
    buffered at its end is sent (in a thread: a collector that is down blocks for a while)."""
    if configure_tracing(settings, service_name=service_name):
        log.info("tracing on: spans go to %s", traces_endpoint(settings))
    try:
        yield
    finally:
        await asyncio.to_thread(shutdown_tracing)


async def _stop_api(server: _Server, task: asyncio.Task[None], at_once: asyncio.Event) -> None:
    """Stop uvicorn: it closes its sockets at once and gives open requests (SSE streams) a few
    seconds, unless `at_once` is set meanwhile."""
    server.should_exit = True
    hurry = asyncio.create_task(at_once.wait())
    await asyncio.wait({task, hurry}, return_when=asyncio.FIRST_COMPLETED)
    if not task.done():
        server.force_exit = True
    hurry.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def run_worker(settings: Settings) -> None:
    from services.prune import pruning
    from temporal.client import connect
    from temporal.shutdown import InFlight, drain
    from temporal.telemetry import worker_runtime
    from temporal.worker import build_worker, transcript_store

    async with _tracing(settings, WORKER_SERVICE):
        client = await connect(settings, runtime=worker_runtime(settings))
        in_flight = InFlight()
        store = transcript_store(settings)
        worker = build_worker(client, settings, store, in_flight=in_flight)
        freeze_startup_objects()
        signals = _Signals()
        task = asyncio.create_task(worker.run())
        log.info("worker polling task queue %s", settings.temporal_task_queue)
        if settings.worker_metrics_port is not None:
            log.info(
                "worker metrics on http://%s:%d/metrics",
                settings.worker_metrics_host,
                settings.worker_metrics_port,
            )
        try:
            async with pruning(settings, store.session_factory):
                await _serve_until(signals.stop, task)
        finally:
            await drain(
                worker,
                in_flight,
                grace_s=settings.worker_shutdown_grace_s,
                at_once=signals.at_once,
                say=log.info,
            )
            await asyncio.gather(task, return_exceptions=True)  # plugins clean up (MCP sessions)
        log.info("worker stopped")


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
    from services.prune import pruning
    from services.seed import is_empty, load_config_file
    from temporal.client import connect
    from temporal.devserver import DevServer
    from temporal.shutdown import InFlight, drain
    from temporal.telemetry import worker_runtime
    from temporal.worker import build_worker

    dev = DevServer(
        port=settings.dev_server_port,
        ui_port=settings.dev_server_ui_port,
        db_file=settings.dev_server_db,
    )
    cleared = dev.clear_leftover()  # before the port checks: a leftover holds its ports
    if cleared:
        _say(cleared)
    for port, what, env in (
        (settings.dev_server_port, "Temporal dev server", "DEV_SERVER_PORT"),
        (settings.dev_server_ui_port, "Temporal Web UI", "DEV_SERVER_UI_PORT"),
        (settings.api_port, "API", "API_PORT"),
    ):
        ensure_port_free(settings.api_host if env == "API_PORT" else "127.0.0.1", port, what, env)
    signals = _Signals()
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

    tracing = contextlib.AsyncExitStack()  # closed last: the spans of the stop are sent too
    await dev.start()
    try:
        settings = settings.model_copy(
            update={
                "temporal_address": dev.address,
                "temporal_ui_url": f"http://localhost:{settings.dev_server_ui_port}",
            }
        )
        await tracing.enter_async_context(_tracing(settings, UP_SERVICE))
        # The worker's client: WORKER_METRICS_PORT, when set, serves its metrics.
        client = await connect(settings, runtime=worker_runtime(settings))
        in_flight = InFlight()
        worker = build_worker(client, settings, TranscriptStore(factory), in_flight=in_flight)
        server = _api_server(settings)
        worker_task = asyncio.create_task(worker.run())
        api_task = asyncio.create_task(server.serve())
        if await _started(server, api_task):
            freeze_startup_objects()  # the worker's and the API's: started, both of them
            await asyncio.to_thread(write_api_url, settings)
            for line in ready_lines(settings, admin_token):
                _say(line)
        try:
            async with pruning(settings, factory):
                await _serve_until(signals.stop, worker_task, api_task)
        finally:
            # The API first: it stops taking requests at once (open streams get a few seconds
            # while the worker drains). Then the worker, which drains against the dev server:
            # that must stay up to take the results, so it stops last.
            _say("stopping: the API takes no new requests")
            api_stopped = asyncio.create_task(_stop_api(server, api_task, signals.at_once))
            await drain(
                worker,
                in_flight,
                grace_s=settings.worker_shutdown_grace_s,
                at_once=signals.at_once,
                say=_say,
            )
            await asyncio.gather(worker_task, return_exceptions=True)  # plugins clean up
            await api_stopped
            _say("stopping: the Temporal dev server")
    finally:
        dev.stop()
        engine.dispose()
        await tracing.aclose()
