"""When Temporal tries a failed activity again: the one computation behind the worker's failure
log line (temporal/activity_logs.py) and the `llm.retrying` event (activities/llm/retrying.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError


def next_delay(err: BaseException, info: activity.Info) -> timedelta | str | None:
    """When Temporal tries again after `err` ends attempt `info.attempt`: the delay (the error's
    `next_retry_delay`, else the retry policy's backoff), a string saying why it does not, or
    None when the policy is unknown."""
    policy = info.retry_policy
    if isinstance(err, ApplicationError) and err.non_retryable:
        return "non-retryable"
    if policy is None:
        return None
    if policy.non_retryable_error_types and error_type(err) in policy.non_retryable_error_types:
        return "non-retryable"
    if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
        return f"the last of {policy.maximum_attempts} attempts"
    if isinstance(err, ApplicationError) and err.next_retry_delay is not None:
        return err.next_retry_delay
    return backoff(policy, info.attempt)


def backoff(policy: RetryPolicy, attempt: int) -> timedelta:
    """The wait after failed attempt `attempt` (1-based) under `policy`, as Temporal computes it:
    initial_interval x backoff_coefficient^(attempt - 1), at most maximum_interval (default:
    100 x initial_interval)."""
    initial = policy.initial_interval
    ceiling = policy.maximum_interval or initial * 100
    try:
        seconds = initial.total_seconds() * policy.backoff_coefficient ** (attempt - 1)
    except OverflowError:  # thousands of attempts: long past the ceiling
        return ceiling
    return timedelta(seconds=min(seconds, ceiling.total_seconds()))


def error_type(err: BaseException) -> str:
    """The type Temporal matches against `non_retryable_error_types`."""
    if isinstance(err, ApplicationError) and err.type:
        return err.type
    return type(err).__name__
