"""What the OpenAPI document says about errors, from one table.

Every error is `{"error": code, "detail": detail}` (api/errors.py): `ErrorBody`, and for a 422
`ValidationErrorBody`, whose detail lists `{field, message}`. A route declares the answers its
own code gives with `responses=errors(NOT_FOUND, ...)`; the answers of the middleware in front
of every route (api/guards.py, api/limits.py) are added to each operation they apply to by
`install_openapi`, from `GUARDS`. FastAPI's default 422 (`HTTPValidationError`, a shape this API
never sends) is replaced, or dropped from operations with nothing to validate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field

STATE_CHANGING = frozenset({"post", "put", "patch", "delete"})
PROBES = frozenset({"/healthz", "/readyz"})
REF = "#/components/schemas/"


class FieldError(BaseModel):
    field: str = Field(description="Where: e.g. `body.input`, `query.limit`, `tools[1]`.")
    message: str


class ErrorBody(BaseModel):
    """Every error the API answers."""

    error: str = Field(description="The error's code, e.g. `not_found`.")
    detail: str | list[FieldError]


class ValidationErrorBody(BaseModel):
    """A 422: the request's shape (`validation_error`) or content (`invalid_config`) is wrong."""

    error: Literal["validation_error", "invalid_config"]
    detail: list[FieldError]


@dataclass(frozen=True)
class Answer:
    """One error answer: its status, its `error` code and when it is sent."""

    status: int
    code: str
    when: str
    model: type[BaseModel] = ErrorBody

    @property
    def text(self) -> str:
        return f"`{self.code}`: {self.when}"


BAD_HOST = Answer(400, "bad_host", "the Host header is not an allowed host (ALLOWED_HOSTS).")
FORBIDDEN_ORIGIN = Answer(403, "forbidden_origin", "the request's Origin is not allowed.")
UNAUTHORIZED = Answer(
    401, "unauthorized", "no token, or a malformed, unknown or revoked one (WWW-Authenticate)."
)
INSUFFICIENT_SCOPE = Answer(
    403, "insufficient_scope", "the token's scope does not reach this operation."
)
CSRF_HEADER_MISSING = Answer(
    403,
    "csrf_header_missing",
    "the session cookie signed the request in, and it changes state without "
    "`X-Requested-With: orch-web`.",
)
NOT_FOUND = Answer(404, "not_found", "no such resource.")
CONFLICT = Answer(409, "conflict", "the name is taken, the resource is in use, or it changed.")
PAYLOAD_TOO_LARGE = Answer(413, "payload_too_large", "the body is over MAX_REQUEST_BYTES.")
UNSUPPORTED_MEDIA_TYPE = Answer(
    415, "unsupported_media_type", "a body or Content-Type that is not application/json."
)
VALIDATION_ERROR = Answer(
    422, "validation_error", "the request does not have the right shape.", ValidationErrorBody
)
INVALID_CONFIG = Answer(422, "invalid_config", "the content breaks a rule.", ValidationErrorBody)
TEMPORAL_REFUSED = Answer(502, "temporal_refused", "Temporal refused the request as invalid.")
TEMPORAL_UNAVAILABLE = Answer(
    503, "temporal_unavailable", "Temporal cannot be reached or did not answer in time."
)
TEMPORAL_TOO_LARGE = Answer(
    413, "payload_too_large", "Temporal refused to start the run as too large."
)
NO_WORKER = Answer(
    503, "no_worker", "no worker polls the run's task queue, so the run cannot take it now."
)
# What every operation that talks to Temporal may answer.
TEMPORAL = (TEMPORAL_REFUSED, TEMPORAL_UNAVAILABLE)


# Which operations a guard applies to: (method, path, operation) -> bool.
Applies = Callable[[str, str, dict[str, Any]], bool]


def every_operation(method: str, path: str, operation: dict[str, Any]) -> bool:
    return True


def locked(method: str, path: str, operation: dict[str, Any]) -> bool:
    """The operation needs a token (api/auth.py declares it as its security requirement)."""
    return bool(operation.get("security"))


def above_read(method: str, path: str, operation: dict[str, Any]) -> bool:
    """A valid token may still lack the scope: the operation needs more than `read`."""
    scopes = {s for req in operation.get("security", []) for s in req.get("bearer", [])}
    return bool(scopes - {"read"})


def state_changing(method: str, path: str, operation: dict[str, Any]) -> bool:
    return method in STATE_CHANGING


def locked_and_changing(method: str, path: str, operation: dict[str, Any]) -> bool:
    return locked(method, path, operation) and state_changing(method, path, operation)


def takes_body(method: str, path: str, operation: dict[str, Any]) -> bool:
    return "requestBody" in operation


def _plain_string(schema: dict[str, Any]) -> bool:
    """A schema every string (in a path: every non-empty one) passes, null aside."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    quiet = {"type", "title", "description", "default"}
    return len(options) == 1 and options[0].get("type") == "string" and quiet >= set(options[0])


def takes_input(method: str, path: str, operation: dict[str, Any]) -> bool:
    """A body, or a parameter whose schema can refuse a value."""
    parameters = operation.get("parameters", [])
    return takes_body(method, path, operation) or any(
        not _plain_string(p.get("schema", {})) for p in parameters
    )


# The answers of the middleware and of the authentication dependency, and the operations each
# one applies to. Answers of the same status are merged into one response.
GUARDS: tuple[tuple[Answer, Applies], ...] = (
    (BAD_HOST, every_operation),
    (UNAUTHORIZED, locked),
    (INSUFFICIENT_SCOPE, above_read),
    (FORBIDDEN_ORIGIN, state_changing),
    (CSRF_HEADER_MISSING, locked_and_changing),
    (PAYLOAD_TOO_LARGE, takes_body),
    (UNSUPPORTED_MEDIA_TYPE, state_changing),
    (VALIDATION_ERROR, takes_input),
)


def _joined(first: str, more: str) -> str:
    return first if more in first else f"{first} {more}" if first else more


def _add(responses: dict[Any, dict[str, Any]], key: int | str, answer: Answer) -> None:
    """Add `answer` to `responses` (an OpenAPI responses object), merged with its status's."""
    entry = responses.get(key)
    if entry is None:
        # Always JSON, also on a route whose answer is an event stream (FastAPI would give
        # a `model` the route's media type).
        ref = {"$ref": REF + answer.model.__name__}
        entry = {"description": "", "content": {"application/json": {"schema": ref}}}
        responses[key] = entry
    entry["description"] = _joined(entry["description"], answer.text)


def errors(*answers: Answer) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=`: the answers its own code gives (same statuses merged)."""
    merged: dict[int | str, dict[str, Any]] = {}
    for answer in answers:
        _add(merged, answer.status, answer)
    return merged


def _default_422(entry: dict[str, Any] | None) -> bool:
    schema = (entry or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == REF + "HTTPValidationError")


def truthful(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document, with the error answers as this API sends them (in place)."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for model in (ErrorBody, ValidationErrorBody):
        found = model.model_json_schema(ref_template=REF + "{model}")
        schemas.update(found.pop("$defs", {}))
        schemas[model.__name__] = found
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if _default_422(operation.get("responses", {}).get("422")):
                del operation["responses"]["422"]
            for answer, applies in GUARDS:
                if applies(method, path, operation):
                    _add(operation.setdefault("responses", {}), str(answer.status), answer)
            operation["responses"] = dict(sorted(operation["responses"].items()))
    return document


def install_openapi(app: FastAPI) -> None:
    """`/openapi.json` (and the docs pages) serve the truthful document."""
    generate = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = generate()  # cached by FastAPI until the routes change
        if not done or done[0] is not document:
            done[:] = [truthful(document)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
