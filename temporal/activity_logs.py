"""The worker's activity logs: the run's context on every record, one line per failed attempt.

`ActivityLogs` is a worker interceptor. Around each activity call it enters
`core.logs.log_context` with the run (the workflow id), the activity, the attempt and the step
and agent its input names (an input that references its agent by `spec_ref` gets the agent
bound once the spec is read: activities/specs.py), so every record logged inside, with
temporalio's `activity.logger` or a plain `logging.getLogger`, carries them.

When the call raises, it logs the failure as one line (logger `orch.activity`): WARNING when
Temporal will try again, with the delay, ERROR when it will not, e.g.

    provider fake-openai (openai) answered 503 on attempt 2: retrying in 2.0 s

The traceback of a failure the code classified (an `ApplicationError`: provider errors, tool
errors asking for a retry; a tool's `UpstreamUnavailable`) follows as a separate DEBUG record;
any other exception is not expected and keeps its traceback on the line itself. The SDK's own
record of that failure ("Completing activity as failed", a WARNING with the traceback) is then
dropped by a filter on its logger. Cancellations and benign errors are left to the SDK.
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory, CancelledError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from activities.llm.errors import ProviderError
from activities.retries import error_type, next_delay
from activities.tools.net import UpstreamUnavailable
from core.logs import log_context
from workflows.types import AgentSpec

log = logging.getLogger("orch.activity")
_LOGGED = "_orch_failure_logged"  # set on an exception whose failure line was written
# What temporalio puts in the `extra` of its "Completing activity as failed" record.
_SDK_FAILURE_KEY = "__temporal_error_identifier"
_SDK_FAILURE = "ActivityFailure"
# Failures the code classified and expects now and then: their traceback is for DEBUG only.
EXPECTED = (ApplicationError, UpstreamUnavailable)


class ActivityLogs(Interceptor):
    """The worker interceptor (see the module's docstring). Building one also drops temporalio's
    own record of the failures it logged, and the dict of activity or workflow info the SDK
    appends to the text of its loggers' messages: the records carry those fields already."""

    def __init__(self) -> None:
        sdk_logger = activity.logger.base_logger
        if not any(isinstance(f, DropLoggedFailures) for f in sdk_logger.filters):
            sdk_logger.addFilter(DropLoggedFailures())
        activity.logger.activity_info_on_message = False
        workflow.logger.workflow_info_on_message = False

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Logged(next)


class DropLoggedFailures(logging.Filter):
    """Drops temporalio's "Completing activity as failed" record of an exception that
    `ActivityLogs` has logged already."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _SDK_FAILURE_KEY, None) != _SDK_FAILURE or not record.exc_info:
            return True
        return not getattr(record.exc_info[1], _LOGGED, False)


class _Logged(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        first = input.args[0] if input.args else None
        step = getattr(first, "step", None)
        agent = getattr(first, "agent", None)
        with log_context(
            run_id=info.workflow_id,
            agent=agent.name if isinstance(agent, AgentSpec) else None,
            activity=info.activity_type,
            workflow=info.workflow_type,
            step=step if isinstance(step, int) else None,
            attempt=info.attempt,
        ):
            try:
                return await self.next.execute_activity(input)
            except Exception as err:
                if _worth_a_line(err):
                    log_failure(err, info)
                raise


def _worth_a_line(err: Exception) -> bool:
    if isinstance(err, CancelledError):
        return False
    return not (
        isinstance(err, ApplicationError) and err.category == ApplicationErrorCategory.BENIGN
    )


def log_failure(err: Exception, info: activity.Info) -> None:
    """The one line for a failed attempt (WARNING: retried; ERROR: not), its traceback at DEBUG
    for a classified error; marks `err` so the SDK's own record of it is dropped."""
    delay = next_delay(err, info)
    attempt = f"on attempt {info.attempt}"
    if isinstance(delay, str):
        level, outcome = logging.ERROR, f"{attempt}: not retried ({delay})"
    elif delay is None:
        level, outcome = logging.WARNING, f"{attempt}: retrying per the retry policy"
    else:
        level, outcome = logging.WARNING, f"{attempt}: retrying in {delay.total_seconds():.1f} s"
    classified = isinstance(err, EXPECTED)
    log.log(
        level,
        "%s %s",
        describe(err, info),
        outcome,
        exc_info=None if classified else err,
        extra={"error_type": error_type(err)},
    )
    if classified:
        log.debug("traceback of the failure above", exc_info=err)
    try:
        setattr(err, _LOGGED, True)
    except AttributeError:  # an exception that takes no attributes: the SDK logs it too
        pass


def describe(err: Exception, info: activity.Info) -> str:
    """What failed, in a few words."""
    if isinstance(err, ProviderError):
        return err.summary
    if isinstance(err, ApplicationError):
        return f"activity {info.activity_type} failed ({error_type(err)}): {err.message}"
    if isinstance(err, UpstreamUnavailable):
        return f"activity {info.activity_type} failed ({error_type(err)}): {err}"
    return f"activity {info.activity_type} raised {type(err).__name__}: {err}"
