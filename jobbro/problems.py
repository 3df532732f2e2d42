"""application/problem+json (RFC 9457) for every error an HTTP API answers: a stable `code` and a sentence.

`create_http_app` installs the defaults for every service — invalid requests, unknown routes and methods, and
anything unexpected — so no error leaves as FastAPI's plain JSON; a service adds (or overrides) handlers for its
own refusals. Error bodies are bounded: they never echo the input and list only the first few invalid fields; and
whatever a refusal's text says, `problem` masks any CPR number and token in it before it leaves (`jobbro.log.redact`).
"""

import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from jobbro.log import redact

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:jobbro:problem:"
MAX_ERRORS = 10
"""Invalid fields a problem lists at most (a body with thousands of bad items gets the first ones and a count)."""
MAX_TEXT = 200
"""Characters of one message, location part or detail sentence at most: error bodies stay a few KiB."""


def problem(status: int, code: str, detail: str, title: str | None = None, **extensions: Any) -> JSONResponse:
    """The response for one problem; `code` is stable, `detail` a sentence a person understands.

    Every text in it is redacted, a safety net under the refusals that already name no personal data.
    """
    body = {
        "type": TYPE_PREFIX + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": bounded(detail, 5 * MAX_TEXT),
        **extensions,
    }
    return JSONResponse(redact(body), status_code=status, media_type=MEDIA_TYPE)


def code_of(exc: Exception) -> str:
    """A refusal's stable code: its class name in snake case (`UnknownCitizen` → `unknown_citizen`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    """`text`, cut to `limit` characters (an ellipsis says it was)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def invalid_fields(errors: Sequence[Any]) -> tuple[list[dict[str, Any]], str]:
    """The first `MAX_ERRORS` of pydantic's errors as `{location, message}` and a sentence naming them.

    Never the `input` or `ctx` pydantic adds (they echo what was sent: a CPR number, a token, megabytes), and
    every text bounded, so the answer to a huge invalid body is small.
    """
    shown = [
        {"location": [bounded(str(part), 64) for part in error["loc"]], "message": bounded(str(error["msg"]))}
        for error in errors[:MAX_ERRORS]
    ]
    parts = [f"{'.'.join(error['location'])}: {error['message']}" for error in shown]
    if len(errors) > MAX_ERRORS:
        parts.append(f"and {len(errors) - MAX_ERRORS} more")
    return shown, "The request is not valid: " + "; ".join(parts) + "."


def install_defaults(app: FastAPI) -> None:
    """Answer invalid requests, unknown routes and unexpected failures as problems."""

    async def invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors, detail = invalid_fields(exc.errors())
        return problem(422, "request_invalid", detail, errors=errors, errors_total=len(exc.errors()))

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = {400: "request_malformed", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        response = problem(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("request_failed", exc_info=exc)
        return problem(500, "internal_error", "Something went wrong on our side.")

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
