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

from activities.retries import next_delay
from workflows.events import LlmRetrying


def retry_delay(err: ApplicationError, info: activity.Info) -> timedelta | None:
    """When Temporal starts the next attempt after `err` ends this one (a provider's Retry-After
    wins over the retry policy's backoff: activities/retries.py); None when it won't (a
    non-retryable error, the last attempt the policy allows) or the policy is unknown."""
    delay = next_delay(err, info)
    return delay if isinstance(delay, timedelta) else None


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
