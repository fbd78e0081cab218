"""One error shape for every failure: `{"error": code, "detail": detail}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import OrchError

log = logging.getLogger(__name__)


def error_response(
    status_code: int, code: str, detail: Any, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status_code,
        content={"error": code, "detail": jsonable_encoder(detail)},
        headers=headers,
    )


def status_code_name(status_code: int) -> str:
    """404 -> "not_found", 405 -> "method_not_allowed"."""
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        return f"http_{status_code}"
    return phrase.lower().replace("-", "_").replace(" ", "_").replace("'", "")


def _field(loc: tuple[int | str, ...] | list[int | str]) -> str:
    return ".".join(str(part) for part in loc)


async def orch_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OrchError)
    return error_response(exc.status_code, exc.code, exc.detail, headers=exc.headers)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [{"field": _field(err["loc"]), "message": err["msg"]} for err in exc.errors()]
    return error_response(422, "validation_error", detail)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(
        exc.status_code, status_code_name(exc.status_code), exc.detail, headers=exc.headers
    )


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OrchError, orch_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
