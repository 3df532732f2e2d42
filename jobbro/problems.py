"""application/problem+json (RFC 9457) for every error an HTTP API answers: a stable `code` and a sentence.

`create_http_app` installs the defaults for every service — invalid requests, unknown routes and methods,
text PostgreSQL cannot store, and anything unexpected — so no error leaves as FastAPI's plain JSON; a service
adds (or overrides) handlers for its own refusals.
"""

import re
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

log = structlog.get_logger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:jobbro:problem:"
# NUL and lone surrogates: valid in JSON and URLs, but PostgreSQL text cannot hold them.
_UNSTORABLE = re.compile(rb"\\u0000|%00|\\ud[89a-f][0-9a-f]{2}", re.IGNORECASE)


def problem(status: int, code: str, detail: str, title: str | None = None, **extensions: Any) -> JSONResponse:
    """The response for one problem; `code` is stable, `detail` a sentence a person understands."""
    body = {
        "type": TYPE_PREFIX + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def code_of(exc: Exception) -> str:
    """A refusal's stable code: its class name in snake case (`UnknownCitizen` → `unknown_citizen`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def install_defaults(app: FastAPI) -> None:
    """Answer invalid requests, unknown routes, unstorable text and unexpected failures as problems."""

    async def invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"location": [str(p) for p in e["loc"]], "message": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(e['location'])}: {e['message']}" for e in errors)
        return problem(422, "request_invalid", f"The request is not valid: {detail}.", errors=errors)

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
    app.add_middleware(_RefuseUnstorableText)


class _RefuseUnstorableText:
    """Refuse a request whose query or JSON body holds NUL or a lone surrogate, before any handler sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        target = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if _UNSTORABLE.search(target) or (_is_json(scope) and _UNSTORABLE.search(body)):
            response = problem(422, "text_unstorable", "Text may not contain NUL characters or lone surrogates.")
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self._app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    return b"json" in headers.get(b"content-type", b"")
