"""Schemathesis against the running API: what it answers is what /openapi.json says.

One app for the module, served over real HTTP with a worker, on the session's real Temporal dev
server and a copy of the seeded database (the example config: the `demo` agent and its tools),
so run operations start, read, cancel and stream real runs. Both run in a thread of their own
with its own event loop: schemathesis calls the API synchronously from the test's thread, which
would block the session's loop that `api_url` and `worker` (tests/support/temporal.py) serve
from, and one app for every operation keeps the module within seconds.

No operation is excluded and no check is turned off. The event stream too is checked:
schemathesis reads `text/event-stream` answers (up to `max-stream-events` events) and checks
them against the document's `itemSchema`.

Bounded and deterministic: a fixed seed, `deterministic` generation and a few examples per
operation; the coverage phase's cases are deterministic by construction.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
import uvicorn
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config_store.db import make_engine, make_session_factory
from config_store.transcript import TranscriptStore
from core.settings import Settings
from temporal.worker import build_worker
from tests.support.auth import ADMIN_TOKEN, AUTH
from tests.support.db import sqlite_url_for
from tests.support.temporal import free_port

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 5
STATEFUL_SCENARIOS = 10
STATEFUL_STEPS = 6
SEED = 20261201

CONFIG: dict[str, Any] = {
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
    # Half of the bodies' `agent` (run starts, routes) name the seeded agent, so that runs
    # really start (the other half: a random name, a 404 or a 422).
    "dictionaries": {"agents": {"values": ["demo"]}},
    "parameters": {"body.agent": {"dictionary": "agents", "probability": 0.5}},
    # A run's event stream ends after its terminal event; the demo run has 8.
    "max-stream-events": 50,
    "request-timeout": 30,
}


class ApiThread:
    """The app (uvicorn) and a worker on its task queue, in a thread with its own loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="api-under-test", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as err:  # reported by start()
            self._error = err
            self._started.set()

    async def _serve(self) -> None:
        client = await Client.connect(
            self.settings.temporal_address, namespace=self.settings.temporal_namespace
        )
        engine = make_engine(self.settings.database_url)
        store = TranscriptStore(make_session_factory(engine))
        config = uvicorn.Config(
            create_app(self.settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        try:
            async with build_worker(client, self.settings, store):
                serving = asyncio.create_task(self._server.serve())
                while not self._server.started and not serving.done():
                    await asyncio.sleep(0.02)
                self._started.set()
                await serving
        finally:
            engine.dispose()

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(60) or self._error is not None:
            raise RuntimeError("the API under test did not start") from self._error

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(30)


@pytest.fixture(scope="module")
def api_under_test(
    temporal_env: WorkflowEnvironment,
    _seeded_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("conformance")
    database = folder / "orch.db"
    shutil.copyfile(_seeded_template, database)
    workspace = folder / "workspace"
    workspace.mkdir()
    settings = Settings(
        database_url=sqlite_url_for(database),
        temporal_address=temporal_env.client.service_client.config.target_host,
        temporal_task_queue=f"tq-{uuid.uuid4().hex}",
        workspace_dir=workspace,
        temporal_ui_url="http://localhost:8233",
        orch_admin_token=ADMIN_TOKEN,
    )
    api = ApiThread(settings)
    api.start()
    try:
        yield api.url
    finally:
        api.stop()


# The document is generated from the code, the same with any settings: loaded at import, as
# schemathesis's pytest plugin wants it (its lazy `from_fixture` loader does not run on pytest 9:
# it reads `request.node._nodeid`), and checked against what the running API serves.
DOCUMENT = create_app(Settings()).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(CONFIG))


def test_the_api_serves_the_document_under_test(api_under_test: str) -> None:
    with httpx.Client(base_url=api_under_test, headers=AUTH) as http:
        assert http.get("/openapi.json").json() == DOCUMENT


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
)
def test_each_operation_answers_as_documented(case: Any, api_under_test: str) -> None:
    case.call_and_validate(base_url=api_under_test, headers=AUTH, checks=CHECKS)


def test_call_sequences_answer_as_documented(api_under_test: str) -> None:
    """The stateful phase: chains of calls along the links schemathesis finds (a created
    resource read, changed and deleted; a started run read, followed, cancelled, decided)."""
    failures: list[str] = []

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": api_under_test, "headers": AUTH}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)
            except Exception as err:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
                failures.append(str(err))
                raise

    settings = hypothesis.settings(
        max_examples=STATEFUL_SCENARIOS,
        stateful_step_count=STATEFUL_STEPS,
        derandomize=True,
        deadline=None,
        # Generation only, as schemathesis runs its state machines: a replay (shrinking) meets
        # an API whose state the first run changed.
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        database=None,
    )
    try:
        Workflow.run(settings=settings)
    except hypothesis.errors.Flaky:
        # Which links a step may follow depends on what the API answered before, so Hypothesis
        # can find that one scenario drew differently from another ("inconsistent data
        # generation"). schemathesis's own runner counts that as a pass unless a check failed:
        # so does this test, and every check failure is reported.
        assert not failures, "\n".join(failures)
    assert not failures, "\n".join(failures)
