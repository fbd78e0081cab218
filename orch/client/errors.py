"""The SDK's errors: what the API answered (`OrchApiError`), or that it could not be reached."""

from __future__ import annotations

from typing import Any

from core.errors import OrchError


class OrchApiError(OrchError):
    """The API answered with an error: `{"error": code, "detail": detail}` and its status.

    `message` is the detail as text (the first field's message for a validation error), `field`
    the field a 422 names (dotted, e.g. `body.max_steps`; None when it names none), `errors`
    every `{"field", "message"}` pair of a validation error. `local` is True when the SDK
    refused the body before sending it (validated by the API's own models, same shape).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        detail: Any = None,
        errors: list[dict[str, str]] | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(detail if detail is not None else message, code=code, status_code=status)
        self.status = status
        self.message = message
        self.field = field
        self.errors = errors or []
        self.local = local
        self.args = (self._text(),)

    def _text(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.status} {self.code}{where}: {self.message}"

    def __str__(self) -> str:
        return self._text()


class OrchConnectionError(OrchError):
    """The API at `url` could not be reached (refused, timed out, dropped)."""

    status_code = 503
    code = "unreachable"

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the orch API at {url}: {reason}")
        self.url = url
        self.reason = reason


class OrchStreamError(OrchConnectionError):
    """A run's event stream stayed lost for longer than the reconnect budget.

    `last_offset` is the offset of the last event delivered (None: none was): pass it as
    `after=` to `events()` to carry on later without a gap or a duplicate.
    """

    code = "stream_lost"

    def __init__(self, url: str, reason: str, *, run_id: str, last_offset: int | None) -> None:
        super().__init__(url, reason)
        self.run_id = run_id
        self.last_offset = last_offset


class OrchTimeoutError(OrchError):
    """A wait for a run ran out of time (the run goes on)."""

    status_code = 504
    code = "timeout"
