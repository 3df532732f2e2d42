"""application/problem+json (RFC 9457) for every error an HTTP API answers: a stable `code` and a sentence.

`create_http_app` installs the defaults for every service — invalid requests, unknown routes and methods, a raised
`Problem`, and anything unexpected — so no error leaves as FastAPI's plain JSON; a service adds handlers for its own
refusals with `install_refusals`. Every service's OpenAPI document advertises the one `ProblemDetails` schema for
each 4xx and 5xx answer (`openapi`), not FastAPI's `HTTPValidationError`. Error bodies are bounded: they never
echo the input and list only the first few invalid fields; and whatever a refusal's text says, `problem` masks any
CPR number and token in it before it leaves (`jobbro.log.redact`).
"""

import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from jobbro.log import redact

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:jobbro:problem:"
MAX_ERRORS = 10
"""Invalid fields a problem lists at most (a body with thousands of bad items gets the first ones and a count)."""
MAX_TEXT = 200
"""Characters of one message, location part or detail sentence at most: error bodies stay a few KiB."""


class InvalidField(BaseModel):
    """One invalid part of a request: where it is, and what is wrong (never the value sent)."""

    location: list[str]
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, the body of every 4xx and 5xx answer; `code` is stable, `detail` a sentence for a
    person. A refusal may add extension members (e.g. `current_state` of an application)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="`urn:jobbro:problem:` and the code.", examples=["urn:jobbro:problem:not_found"])
    title: str = Field(description="The HTTP status's phrase, or a short summary of the kind of problem.")
    status: int = Field(description="The HTTP status code.", examples=[404])
    code: str = Field(description="The stable, machine-readable code.", examples=["not_found"])
    detail: str = Field(description="What went wrong, for a person; never personal data.")
    errors: list[InvalidField] | None = Field(None, description=f"Invalid fields, the first {MAX_ERRORS} at most.")
    errors_total: int | None = Field(None, description="How many fields were invalid in all.")


class Problem(Exception):
    """A refusal raised as an answer: HTTP status, stable code, a sentence for a person, a title where the status's
    phrase says too little, and extension members. The one way a service refuses a request."""

    def __init__(self, status: int, code: str, detail: str, title: str | None = None, **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.extensions = extensions

    def response(self, headers: Mapping[str, str] | None = None) -> JSONResponse:
        answer = problem(self.status, self.code, self.detail, self.title, **self.extensions)
        answer.headers.update(headers or {})
        return answer


Translate = Callable[[Exception], Problem]
"""How a service turns one of its refusals into the problem it answers."""


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
    """Answer a raised `Problem`, invalid requests, unknown routes and unexpected failures as problems, and
    advertise them in the OpenAPI document."""

    async def raised(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return exc.response({"WWW-Authenticate": "Bearer"} if exc.status == 401 else None)

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

    app.add_exception_handler(Problem, raised)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]


def install_refusals(app: FastAPI, refusals: Mapping[type[Exception], Translate]) -> None:
    """Answer each of a service's refusals as the problem its translation makes of it."""

    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        translate = next(translate for kind, translate in refusals.items() if isinstance(exc, kind))
        found = translate(exc)
        return found.response({"WWW-Authenticate": "Bearer"} if found.status == 401 else None)

    for kind in refusals:
        app.add_exception_handler(kind, refused)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses of a route or router (`openapi` gives each its body)."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


_REF = {"$ref": "#/components/schemas/Problem"}


def openapi(app: FastAPI) -> dict[str, Any]:
    """`app`'s OpenAPI document with every 4xx and 5xx answer a problem+json `Problem` (and 500 on every route),
    instead of FastAPI's `HTTPValidationError`, which no route answers."""
    if app.openapi_schema:
        return app.openapi_schema
    document = FastAPI.openapi(app)
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("500", {"description": HTTPStatus(500).phrase})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = {MEDIA_TYPE: {"schema": _REF}}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    body = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs", {}))
    schemas["Problem"] = body
    app.openapi_schema = document
    return document
