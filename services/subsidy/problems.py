"""application/problem+json (RFC 9457) for every error the API returns: a stable `code` and a sentence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jobbro.problems import MAX_TEXT, bounded, invalid_fields
from services.subsidy.schemas import Problem as ProblemBody

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:jobbro:problem:"


class Problem(Exception):
    """An error response: HTTP status, stable code, a sentence for a person, and any extension members."""

    def __init__(self, status: int, code: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.extensions = extensions

    def response(self, headers: Mapping[str, str] | None = None) -> JSONResponse:
        body = {
            "type": TYPE_PREFIX + self.code,
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "code": self.code,
            "detail": bounded(self.detail, 5 * MAX_TEXT),
            **self.extensions,
        }
        return JSONResponse(body, status_code=self.status, media_type=MEDIA_TYPE, headers=headers)


Translate = Callable[[Exception], Problem]


def install(app: FastAPI, refusals: Mapping[type[Exception], Translate]) -> None:
    """Answer `Problem`, every refusal in `refusals`, invalid requests and unknown routes as problem+json."""

    async def problem(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return exc.response(headers)

    async def refused(request: Request, exc: Exception) -> JSONResponse:
        translate = next(translate for kind, translate in refusals.items() if isinstance(exc, kind))
        return await problem(request, translate(exc))

    async def invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors, detail = invalid_fields(exc.errors())
        return Problem(422, "request_invalid", detail, errors=errors, errors_total=len(exc.errors())).response()

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return Problem(exc.status_code, code, str(exc.detail)).response(exc.headers)

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("request_failed", exc_info=exc)
        return Problem(500, "internal_error", "Something went wrong on our side.").response()

    app.add_exception_handler(Problem, problem)
    for kind in refusals:
        app.add_exception_handler(kind, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, each a problem+json body."""
    schema = ProblemBody.model_json_schema()
    return {
        status: {"description": HTTPStatus(status).phrase, "content": {MEDIA_TYPE: {"schema": schema}}}
        for status in statuses
    }
