"""The worker's activity logs (temporal/activity_logs.py): real runs on the dev server against the
fake provider, their records captured by core/logs.py's handlers (a JSON LOG_FILE and console)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.retries import backoff, next_delay
from activities.tools.net import UpstreamUnavailable
from core.settings import Settings
from temporal.activity_logs import ActivityLogs, DropLoggedFailures, log_failure
from tests.fakes.provider_server import FakeProviderServer
from tests.support.logs import Captured, captured_logs
from tests.support.provider import fake_openai
from tests.support.runs import demo_spec, start_agent
from workflows.agent_run import AgentRun

KEY_ENV = "ORCH_TEST_LOGS_KEY"
KEY = "sk-logs-test-5c4b3a-never-logged"
POLICY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=60))


@pytest.fixture
def provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def log_settings(settings: Settings, tmp_path: Path, level: str) -> Settings:
    return settings.model_copy(
        update={"log_file": tmp_path / "logs" / "orch.log", "log_level": level}
    )


def problems(logs: Captured) -> list[dict[str, Any]]:
    return [r for r in logs.file_records() if r["level"] in ("WARNING", "ERROR", "CRITICAL")]


async def run_once(
    client: Client, settings: Settings, seeded: Any, fake: FakeProviderServer
) -> str:
    spec = demo_spec(seeded, provider=fake_openai(fake, KEY_ENV), model="m")
    run_id = await start_agent(client, settings, spec, "hi")
    await client.get_workflow_handle_for(AgentRun.run, run_id).result()
    return run_id


@pytest.mark.usefixtures("worker", "provider_key")
async def test_a_provider_retry_is_one_warning_line_without_a_traceback(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    tmp_path: Path,
) -> None:
    fake_provider.queue_fault(503, wire="openai")
    fake_provider.queue_text("fine")
    with captured_logs(log_settings(orch_settings, tmp_path, "INFO")) as logs:
        run_id = await run_once(temporal_client, orch_settings, seeded, fake_provider)
        records = logs.file_records()
        console = logs.console.getvalue()

    assert len(fake_provider.requests) == 2
    [line] = problems(logs)
    assert line == {
        "ts": line["ts"],
        "level": "WARNING",
        "logger": "orch.activity",
        # The policy's first backoff (workflows/model_steps.py: 1 s): no Retry-After here.
        "message": "provider fake-openai (openai) answered 503 on attempt 1: retrying in 1.0 s",
        "run_id": run_id,
        "agent": "demo",
        "activity": "llm_step",
        "workflow": "AgentRun",
        "step": 1,
        "attempt": 1,
        "error_type": "ProviderUnavailable",
    }
    assert not [r for r in records if "exc" in r]
    assert "Traceback" not in console and "Completing activity as failed" not in console
    # The HTTP client's line of each attempt (a library's plain logger, inside the activity).
    requests = [r for r in records if r["message"].startswith("HTTP Request: POST")]
    assert [(r["run_id"], r["agent"], r["step"], r["attempt"]) for r in requests] == [
        (run_id, "demo", 1, 1),
        (run_id, "demo", 1, 2),
    ]
    assert KEY not in console


@pytest.mark.usefixtures("worker", "provider_key")
async def test_at_debug_the_traceback_follows_and_records_inside_carry_the_run(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    tmp_path: Path,
) -> None:
    fake_provider.queue_fault(503, headers={"retry-after-ms": "1500"}, wire="openai")
    fake_provider.queue_text("fine")
    with captured_logs(log_settings(orch_settings, tmp_path, "DEBUG")) as logs:
        run_id = await run_once(temporal_client, orch_settings, seeded, fake_provider)
        records = logs.file_records()

    [line] = problems(logs)
    # The provider's Retry-After, not the policy's backoff.
    assert line["message"] == (
        "provider fake-openai (openai) answered 503 on attempt 1: retrying in 1.5 s"
    )
    assert "exc" not in line
    ours = [r for r in records if r["logger"] == "orch.activity"]
    assert [r["level"] for r in ours] == ["WARNING", "DEBUG"]
    traceback = ours[1]
    assert traceback["message"] == "traceback of the failure above"
    assert traceback["exc"].startswith("Traceback") and "answered 503" in traceback["exc"]
    assert (traceback["run_id"], traceback["attempt"]) == (run_id, 1)
    assert not [r for r in records if r["message"].startswith("Completing activity as failed")]

    # A record of our own code, logged with a plain logging.getLogger inside the model step:
    # it carries the run, the agent (bound once the step read its spec), the step and attempt.
    [built] = [r for r in records if r["logger"] == "activities.llm.clients"]
    assert built["message"].startswith("new openai provider client for http://127.0.0.1:")
    assert (built["run_id"], built["agent"], built["step"], built["attempt"]) == (
        run_id,
        "demo",
        1,
        1,
    )
    # The second attempt's records say so.
    second = [r for r in records if r.get("run_id") == run_id and r.get("attempt") == 2]
    assert second and all(r["activity"] == "llm_step" for r in second)
    assert all(KEY not in str(r) for r in records)


@pytest.mark.usefixtures("worker", "provider_key")
async def test_a_rejected_call_is_one_error_line_not_retried(
    fake_provider: FakeProviderServer,
    temporal_client: Client,
    orch_settings: Settings,
    seeded: Any,
    tmp_path: Path,
) -> None:
    fake_provider.queue_fault(401, message="bad key", wire="openai")
    with captured_logs(log_settings(orch_settings, tmp_path, "INFO")) as logs:
        with pytest.raises(WorkflowFailureError):
            await run_once(temporal_client, orch_settings, seeded, fake_provider)
        records = logs.file_records()

    ours = [r for r in records if r["logger"] == "orch.activity"]
    assert [(r["level"], r["message"]) for r in ours] == [
        (
            "ERROR",
            "provider fake-openai (openai) answered 401 on attempt 1: not retried (non-retryable)",
        )
    ]
    assert ours[0]["error_type"] == "ProviderRejected" and "exc" not in ours[0]
    assert not [r for r in records if r["message"].startswith("Completing activity as failed")]


# The pieces, without a worker.


def test_backoff_follows_the_policy_up_to_its_ceiling() -> None:
    assert [backoff(POLICY, n).total_seconds() for n in (1, 2, 3, 6, 7, 20)] == [
        1,
        2,
        4,
        32,
        60,
        60,
    ]
    assert backoff(POLICY, 5000) == timedelta(seconds=60)  # 2**4999 overflows a float
    unbounded = RetryPolicy(initial_interval=timedelta(seconds=2))
    assert backoff(unbounded, 30) == timedelta(seconds=200)  # default ceiling: 100 x initial


def info(attempt: int, policy: RetryPolicy | None = POLICY) -> Any:
    return replace(
        ActivityEnvironment.default_info(),
        attempt=attempt,
        activity_type="tool_call",
        retry_policy=policy,
    )


def test_the_next_delay_and_why_there_is_none() -> None:
    plain = ApplicationError("x", type="Boom")
    assert next_delay(plain, info(3)) == timedelta(seconds=4)
    asked = ApplicationError("x", type="Boom", next_retry_delay=timedelta(seconds=7))
    assert next_delay(asked, info(3)) == timedelta(seconds=7)
    final = ApplicationError("x", type="Boom", non_retryable=True)
    assert next_delay(final, info(1)) == "non-retryable"
    listed = replace(POLICY, non_retryable_error_types=["Boom"])
    assert next_delay(plain, info(1, listed)) == "non-retryable"
    assert next_delay(RuntimeError("x"), info(3, replace(POLICY, maximum_attempts=3))) == (
        "the last of 3 attempts"
    )
    assert next_delay(RuntimeError("x"), info(1, None)) is None


def failure_records(err: Exception, attempt: int = 2) -> list[logging.LogRecord]:
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    log = logging.getLogger("orch.activity")
    keep, level = Keep(), log.level
    log.addHandler(keep)
    log.setLevel(logging.DEBUG)
    try:
        try:
            raise err
        except Exception as raised:
            log_failure(raised, info(attempt))
    finally:
        log.removeHandler(keep)
        log.setLevel(level)
    return seen


def test_an_unexpected_exception_keeps_its_traceback_on_the_line() -> None:
    [line] = failure_records(RuntimeError("the store lost a row"))
    assert line.levelno == logging.WARNING and line.exc_info is not None
    assert line.getMessage() == (
        "activity tool_call raised RuntimeError: the store lost a row on attempt 2: "
        "retrying in 2.0 s"
    )


def test_a_classified_error_has_its_traceback_at_debug_only() -> None:
    line, traceback = failure_records(ApplicationError("upstream 503", type="UpstreamUnavailable"))
    assert line.levelno == logging.WARNING and not line.exc_info
    assert line.getMessage() == (
        "activity tool_call failed (UpstreamUnavailable): upstream 503 on attempt 2: "
        "retrying in 2.0 s"
    )
    assert traceback.levelno == logging.DEBUG and traceback.exc_info is not None


def test_a_tools_upstream_being_unavailable_has_its_traceback_at_debug_only() -> None:
    line, traceback = failure_records(UpstreamUnavailable("api.example answered 503"), attempt=1)
    assert line.levelno == logging.WARNING and not line.exc_info
    assert line.getMessage() == (
        "activity tool_call failed (UpstreamUnavailable): api.example answered 503 on attempt 1: "
        "retrying in 1.0 s"
    )
    assert traceback.levelno == logging.DEBUG and traceback.exc_info is not None


def test_the_sdk_record_of_a_logged_failure_is_dropped() -> None:
    logged, other = ApplicationError("a"), ApplicationError("b")
    failure_records(logged)
    drop = DropLoggedFailures()

    def sdk_record(err: Exception) -> logging.LogRecord:
        record = logging.LogRecord(
            "temporalio.activity",
            logging.WARNING,
            __file__,
            1,
            "Completing activity as failed",
            None,
            (type(err), err, None),
        )
        record.__dict__["__temporal_error_identifier"] = "ActivityFailure"
        return record

    assert not drop.filter(sdk_record(logged))
    assert drop.filter(sdk_record(other))
    plain = logging.LogRecord("temporalio.activity", logging.WARNING, __file__, 1, "m", None, None)
    assert drop.filter(plain)


def test_the_sdk_activity_logger_appends_no_info_to_the_message() -> None:
    ActivityLogs()  # as every worker built by temporal/worker.py does
    env = ActivityEnvironment()
    env.info = replace(env.info, workflow_id="run-5", activity_type="tool_call", attempt=2)

    def work() -> None:
        activity.logger.warning("tool x failed on its last attempt")

    with captured_logs(Settings(log_file=None), to_file=False) as logs:
        env.run(work)
    [record] = [r for r in logs.console_records() if r["message"].startswith("tool x")]
    assert record["message"] == "tool x failed on its last attempt"  # no "({'activity_id': ...})"
    assert (record["run_id"], record["activity"], record["attempt"]) == ("run-5", "tool_call", 2)
