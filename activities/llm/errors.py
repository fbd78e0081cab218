"""Provider errors, translated where they enter into Temporal `ApplicationError`s.

Temporal owns retries: SDK clients run with `max_retries=0` and every failure is classified here,
by exception class and HTTP status (never by the text of a message):

- 429                                   -> "ProviderRateLimited", retryable, honours Retry-After
- 408, 409, 5xx (Anthropic 529 too),
  timeouts, connection errors           -> "ProviderUnavailable", retryable
- any other 4xx                         -> "ProviderRejected", non-retryable
- OpenAI error code context_length_exceeded -> "ContextLengthExceeded", non-retryable

A stream that breaks off mid-way raises a connection error (or ends without its final event:
`incomplete_stream`): "ProviderUnavailable", retryable. An Anthropic stream may also carry an
`error` event after a 200: it is classified by its `error.type` as the status that type stands
for (`overloaded_error` as 529, `rate_limit_error` as 429, ...; an unknown type as 500).

Anthropic has no stable signal for a prompt that is too long: it answers 400
`invalid_request_error` and only the message text says why (and the SDK's `error_code`, from
`error.details.error_code`, names no such cause), so that stays "ProviderRejected".

Messages name the provider, its model and the HTTP status, and never carry the API key or a
header value taken from the environment: the caller passes those in `redact`, and the SDK
exception is not chained as the cause (its text quotes the raw response body).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Generic, TypeVar

import anthropic
import openai
from temporalio.exceptions import ApplicationError

from workflows.types import ProviderSpec

StatusT = TypeVar("StatusT", bound=Exception)

PROVIDER_RATE_LIMITED = "ProviderRateLimited"
PROVIDER_UNAVAILABLE = "ProviderUnavailable"
PROVIDER_REJECTED = "ProviderRejected"
PROVIDER_ERROR = "ProviderError"
CONTEXT_LENGTH_EXCEEDED = "ContextLengthExceeded"
MISSING_API_KEY = "MissingApiKey"
MISSING_HEADER_ENV = "MissingHeaderEnv"
INVALID_PROVIDER_CONFIG = "InvalidProviderConfig"

# Statuses below 500 that are worth retrying: request timeout, conflict, rate limit.
_RETRYABLE_4XX = frozenset({408, 409, 429})
# The HTTP status each Anthropic `error.type` stands for, to classify an `error` event that
# arrives inside a stream whose own status was 200.
_ANTHROPIC_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
# A Retry-After longer than this is clamped: Temporal's own backoff takes over beyond it.
MAX_RETRY_AFTER = timedelta(minutes=5)
_MAX_DETAIL_CHARS = 300
_REDACTED = "***"


class ProviderError(ApplicationError):
    """An `ApplicationError` that knows the provider it came from, for the worker's log line of
    a failed attempt (temporal/activity_logs.py). On the wire it is a plain ApplicationError:
    these attributes stay in the worker."""

    def __init__(
        self,
        message: str,
        *,
        provider: ProviderSpec,
        problem: str,
        type: str,
        non_retryable: bool = False,
        next_retry_delay: timedelta | None = None,
    ) -> None:
        super().__init__(
            message, type=type, non_retryable=non_retryable, next_retry_delay=next_retry_delay
        )
        self.provider = provider.name
        self.kind = provider.kind
        # What went wrong, in a few words: "answered 503", "timed out", "is unreachable".
        self.problem = problem

    @property
    def summary(self) -> str:
        return f"provider {self.provider} ({self.kind}) {self.problem}"


def parse_retry_after(
    headers: Mapping[str, str], *, now: datetime | None = None
) -> timedelta | None:
    """The delay a response asks for: `retry-after-ms`, else `Retry-After` (seconds or HTTP date).

    Returns None when absent, unparsable, not positive or not finite; clamps to MAX_RETRY_AFTER.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    seconds: float | None = None
    if (ms := _as_float(lowered.get("retry-after-ms"))) is not None:
        seconds = ms / 1000
    elif (raw := lowered.get("retry-after")) is not None:
        seconds = _as_float(raw)
        if seconds is None:
            seconds = _seconds_until(raw, now or datetime.now(UTC))
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return None
    return min(timedelta(seconds=seconds), MAX_RETRY_AFTER)


def _as_float(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def _who(provider: ProviderSpec, model: str) -> str:
    return f"{provider.kind} provider '{provider.name}' (model {model})"


def _clean(text: str, redact: Iterable[str]) -> str:
    # Longest first: a header value is redacted whole before the env value inside it.
    for secret in sorted(redact, key=len, reverse=True):
        if secret:
            text = text.replace(secret, _REDACTED)
    text = " ".join(text.split())
    if len(text) > _MAX_DETAIL_CHARS:
        text = text[: _MAX_DETAIL_CHARS - 3] + "..."
    return text


def _status_error(
    *,
    provider: ProviderSpec,
    who: str,
    status: int,
    detail: str,
    headers: Mapping[str, str],
    context_length_exceeded: bool = False,
) -> ApplicationError:
    message = f"{who} answered {status}: {detail}" if detail else f"{who} answered {status}"
    problem = f"answered {status}"
    if context_length_exceeded:
        return ProviderError(
            message,
            provider=provider,
            problem=problem,
            type=CONTEXT_LENGTH_EXCEEDED,
            non_retryable=True,
        )
    if status == 429 or status >= 500 or status in _RETRYABLE_4XX:
        return ProviderError(
            message,
            provider=provider,
            problem=problem,
            type=PROVIDER_RATE_LIMITED if status == 429 else PROVIDER_UNAVAILABLE,
            next_retry_delay=parse_retry_after(headers),
        )
    return ProviderError(
        message, provider=provider, problem=problem, type=PROVIDER_REJECTED, non_retryable=True
    )


@dataclass(frozen=True)
class _SdkErrors(Generic[StatusT]):
    """The exception classes of one SDK: openai and anthropic have the same four."""

    timeout: type[Exception]
    connection: type[Exception]
    status: type[StatusT]
    validation: type[Exception]


_OPENAI_ERRORS = _SdkErrors(
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.APIStatusError,
    openai.APIResponseValidationError,
)
_ANTHROPIC_ERRORS = _SdkErrors(
    anthropic.APITimeoutError,
    anthropic.APIConnectionError,
    anthropic.APIStatusError,
    anthropic.APIResponseValidationError,
)


def _map_sdk_error(
    exc: Exception,
    provider: ProviderSpec,
    who: str,
    secrets: tuple[str, ...],
    sdk: _SdkErrors[StatusT],
    on_status: Callable[[StatusT], ApplicationError],
) -> ApplicationError:
    def error(message: str, problem: str, type: str) -> ProviderError:
        return ProviderError(message, provider=provider, problem=problem, type=type)

    if isinstance(exc, sdk.timeout):  # before `connection`: a timeout is a connection error
        return error(f"{who} timed out", "timed out", PROVIDER_UNAVAILABLE)
    if isinstance(exc, sdk.connection):
        problem = _clean(str(getattr(exc, "message", exc)), secrets)
        return error(f"{who} is unreachable: {problem}", "is unreachable", PROVIDER_UNAVAILABLE)
    if isinstance(exc, sdk.status):
        return on_status(exc)
    if isinstance(exc, sdk.validation):
        return error(
            f"{who} sent a response that does not match the API schema",
            "sent a response that does not match the API schema",
            PROVIDER_ERROR,
        )
    return error(
        f"{who} failed: {type(exc).__name__}: {_clean(str(exc), secrets)}",
        f"failed ({type(exc).__name__})",
        PROVIDER_ERROR,
    )


def map_openai_error(
    exc: openai.OpenAIError,
    provider: ProviderSpec,
    model: str,
    *,
    redact: Iterable[str] = (),
) -> ApplicationError:
    """Classify an exception raised by the `openai` SDK (OpenAI or an OpenAI-compatible server)."""
    secrets = tuple(redact)
    who = _who(provider, model)

    def on_status(exc: openai.APIStatusError) -> ApplicationError:
        body = exc.body  # the SDK already unwrapped {"error": {...}}
        if isinstance(body, Mapping) and isinstance(body.get("message"), str):
            detail = str(body["message"])
        elif isinstance(body, str):
            detail = body
        else:
            detail = ""
        return _status_error(
            provider=provider,
            who=who,
            status=exc.status_code,
            detail=_clean(detail, secrets),
            headers=exc.response.headers,
            context_length_exceeded=exc.code == "context_length_exceeded",
        )

    return _map_sdk_error(exc, provider, who, secrets, _OPENAI_ERRORS, on_status)


def map_anthropic_error(
    exc: anthropic.AnthropicError,
    provider: ProviderSpec,
    model: str,
    *,
    redact: Iterable[str] = (),
) -> ApplicationError:
    """Classify an exception raised by the `anthropic` SDK."""
    secrets = tuple(redact)
    who = _who(provider, model)

    def on_status(exc: anthropic.APIStatusError) -> ApplicationError:
        if exc.api_message:
            detail = exc.api_message
        elif isinstance(exc.body, str):
            detail = exc.body
        else:
            detail = ""
        status = exc.status_code
        if status < 400:  # an `error` event inside a stream that had begun with 200
            status = _ANTHROPIC_TYPE_STATUS.get(exc.type or "", 500)
            detail = f"{exc.type or 'error'} in the stream: {detail}"
        return _status_error(
            provider=provider,
            who=who,
            status=status,
            detail=_clean(detail, secrets),
            headers=exc.response.headers,
        )

    return _map_sdk_error(exc, provider, who, secrets, _ANTHROPIC_ERRORS, on_status)


def incomplete_stream(provider: ProviderSpec, model: str) -> ApplicationError:
    """A stream that ended cleanly but before its final event: the reply is cut short."""
    return ProviderError(
        f"{_who(provider, model)} ended its stream before the reply was complete",
        provider=provider,
        problem="ended its stream before the reply was complete",
        type=PROVIDER_UNAVAILABLE,
    )


def missing_api_key(provider: ProviderSpec) -> ApplicationError:
    """The provider's key is not in the environment (or it names no env var at all)."""
    if not provider.api_key_env:
        message = (
            f"provider '{provider.name}' ({provider.kind}) names no api_key_env: set it to the "
            "name of the env var that holds the key"
        )
    else:
        message = (
            f"provider '{provider.name}' needs env var {provider.api_key_env}, which is not set"
        )
    return ApplicationError(message, type=MISSING_API_KEY, non_retryable=True)


def missing_header_env(provider: ProviderSpec, header: str, var: str) -> ApplicationError:
    """A header of the provider names an env var (`${VAR}`) that is not set."""
    return ApplicationError(
        f"provider '{provider.name}' header {header} needs env var {var}, which is not set",
        type=MISSING_HEADER_ENV,
        non_retryable=True,
    )


def invalid_provider_config(provider: ProviderSpec, problem: str) -> ApplicationError:
    """A provider spec that cannot work (unknown kind, missing base_url)."""
    return ApplicationError(
        f"provider '{provider.name}' ({provider.kind}): {problem}",
        type=INVALID_PROVIDER_CONFIG,
        non_retryable=True,
    )
