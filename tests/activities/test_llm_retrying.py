"""When the model activity announces a retry (`llm.retrying`), and the delay it gives."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import cast

from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from activities.llm.retrying import retry_delay, retrying_event

POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=5,
)


def info(attempt: int, policy: RetryPolicy | None = POLICY) -> activity.Info:
    return cast(activity.Info, SimpleNamespace(attempt=attempt, retry_policy=policy))


def unavailable(**options: object) -> ApplicationError:
    return ApplicationError("p answered 503", type="ProviderUnavailable", **options)  # type: ignore[arg-type]


def test_the_delay_follows_the_policys_backoff_up_to_its_ceiling() -> None:
    delays = [retry_delay(unavailable(), info(n)) for n in (1, 2, 3, 4)]
    assert delays == [timedelta(seconds=s) for s in (1, 2, 4, 5)]


def test_a_retry_after_wins_over_the_policy() -> None:
    err = unavailable(next_retry_delay=timedelta(seconds=7))
    assert retry_delay(err, info(1)) == timedelta(seconds=7)


def test_no_retry_no_announcement() -> None:
    assert retry_delay(unavailable(), info(5)) is None  # the last attempt allowed
    rejected = ApplicationError("p answered 401", type="ProviderRejected", non_retryable=True)
    assert retry_delay(rejected, info(1)) is None
    listed = RetryPolicy(maximum_attempts=0, non_retryable_error_types=["ProviderUnavailable"])
    assert retry_delay(unavailable(), info(1, listed)) is None
    assert retrying_event(rejected, info(1)) is None


def test_the_event_names_the_next_attempt() -> None:
    event = retrying_event(unavailable(), info(2))
    assert event is not None
    assert (event.attempt, event.error, event.error_type, event.retry_in_s) == (
        3,
        "p answered 503",
        "ProviderUnavailable",
        2.0,
    )
