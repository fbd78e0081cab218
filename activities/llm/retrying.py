"""`llm.retrying`: what a person following a run sees while its model call is being retried.

When the provider call fails with an error Temporal will retry, the model activity publishes one
`llm.retrying` event (through the run's stream, activities/llm/deltas.py) before it raises: the
attempt that comes next and about when. Without it a follower sees nothing until the retry
answers (a 503 then a second try is seconds of silence).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.events import LlmRetrying


def retry_delay(err: ApplicationError, info: activity.Info) -> timedelta | None:
    """When Temporal starts the next attempt after `err` ends this one; None when it won't
    (a non-retryable error, or the last attempt the retry policy allows).

    The error's own `next_retry_delay` (a provider's Retry-After) wins; else the activity's
    retry policy: `initial_interval * backoff_coefficient ** (attempt - 1)`, at most
    `maximum_interval`.
    """
    policy = info.retry_policy
    if err.non_retryable:
        return None
    if policy is not None:
        if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
            return None
        if err.type is not None and err.type in (policy.non_retryable_error_types or ()):
            return None
    if err.next_retry_delay is not None:
        return err.next_retry_delay
    if policy is None:
        return None
    delay = policy.initial_interval * (policy.backoff_coefficient ** (info.attempt - 1))
    ceiling = policy.maximum_interval or policy.initial_interval * 100  # Temporal's default
    return min(delay, ceiling)


def retrying_event(err: ApplicationError, info: activity.Info) -> LlmRetrying | None:
    """The `llm.retrying` payload for `err` ending attempt `info.attempt`; None if no retry."""
    delay = retry_delay(err, info)
    if delay is None:
        return None
    return LlmRetrying(
        attempt=info.attempt + 1,
        error=err.message,
        error_type=err.type or "",
        retry_in_s=round(delay.total_seconds(), 3),
    )
