"""The one application error base. Everything we raise on purpose derives from `OrchError`."""

from __future__ import annotations

from typing import Any


class OrchError(Exception):
    """An error with an HTTP status and a short machine-readable code.

    The API turns it into `{"error": code, "detail": detail}` with `status_code`.
    """

    status_code: int = 400
    code: str = "bad_request"
    # Response headers the API sends with it (e.g. WWW-Authenticate on a 401).
    headers: dict[str, str] | None = None

    def __init__(self, detail: Any, *, code: str | None = None, status_code: int | None = None):
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        self.detail = detail
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class Unauthorized(OrchError):
    """No token, or one that is unknown, malformed, expired or revoked."""

    status_code = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(OrchError):
    """A valid token whose scope does not reach this operation."""

    status_code = 403
    code = "insufficient_scope"


class CsrfHeaderMissing(OrchError):
    """A state-changing request authenticated by the session cookie without the header the web
    app sends (api/session_cookies.py): what a cross-site form or link would be."""

    status_code = 403
    code = "csrf_header_missing"


class NotFound(OrchError):
    status_code = 404
    code = "not_found"


class Conflict(OrchError):
    status_code = 409
    code = "conflict"


class InvalidConfig(OrchError):
    """Configuration that would not work: names a field and the problem."""

    status_code = 422
    code = "invalid_config"

    def __init__(self, field: str, problem: str):
        super().__init__([{"field": field, "message": problem}])
        self.field = field
        self.problem = problem


class NoWorker(OrchError):
    """No worker polls the task queue a run needs one on, or none answered in time: what only
    the workflow can do (a query, an Update) would wait for one indefinitely."""

    status_code = 503
    code = "no_worker"
