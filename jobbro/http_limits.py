"""What one HTTP request may cost a service, and the one access line it leaves.

`create_http_app` installs `RequestLimits` in every service: a body over the limit is refused with 413 before it is
read (by its `Content-Length`) or as soon as a chunked body passes it; a body the client takes longer than the
timeout to send (the time spent waiting for it, summed) is cut with 408 and the connection closed; JSON nested
deeper than the limit, or holding text PostgreSQL cannot store, is refused before a handler or pydantic parses it.
Every body a route does not stream itself is read here, bounded, and handed on whole. A route that streams a
larger body (a file import) declares its own limit with `streamed_body`.

The access line names method, path, status, duration and client, never the query string: a representative's
link carries its token there. Uvicorn's own access log is off (`serve`).
"""

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
import uvicorn
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobbro.problems import problem
from jobbro.settings import ServiceSettings

log = structlog.get_logger("jobbro.access")

_UNSTORABLE = re.compile(rb"\\u0000|%00|\\ud[89a-f][0-9a-f]{2}", re.IGNORECASE)
"""NUL and lone surrogates: valid in JSON and URLs, but PostgreSQL text cannot hold them."""
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENING = frozenset(b"[{")

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass(frozen=True)
class StreamedBody:
    """A route's own body limit: it reads the body as a stream, up to `max_bytes`, waiting at most `timeout_seconds`
    for the client in all."""

    max_bytes: int
    timeout_seconds: float


def streamed_body(max_bytes: int, timeout_seconds: float) -> Callable[[Endpoint], Endpoint]:
    """Declare (under the route decorator) that an endpoint streams a body of up to `max_bytes` itself."""

    def declare(endpoint: Endpoint) -> Endpoint:
        endpoint.__dict__["streamed_body"] = StreamedBody(max_bytes, timeout_seconds)
        return endpoint

    return declare


def too_large(max_bytes: int) -> JSONResponse:
    """413: the body is over `max_bytes` (the connection closes; the rest is never read)."""
    response = problem(413, "body_too_large", f"The request body may be at most {max_bytes} bytes.")
    response.headers["connection"] = "close"
    return response


class _Refused(BaseException):
    """Reading the body stopped with this problem as the answer.

    A BaseException, like a cancellation: FastAPI turns any Exception raised while it reads a body into a 400,
    and the handlers between here and the route must not answer it either; `RequestLimits` does.
    """

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


class RequestLimits:
    """Pure ASGI middleware: body size, body time and JSON nesting limits, and one access line per request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout_seconds: float, max_json_depth: int) -> None:
        self._app = app
        self._default = StreamedBody(max_body_bytes, body_timeout_seconds)
        self._max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._limited(scope, receive, sending)
        finally:
            client = scope.get("client")
            log.info(
                "http_request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                client=client[0] if client else None,
            )

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _UNSTORABLE.search(scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")):
            await _unstorable()(scope, receive, send)
            return
        body, responded = _Body(scope, receive, self._default, self._max_json_depth), False

        async def sending(message: Message) -> None:
            nonlocal responded
            responded = True
            await send(message)

        try:
            await self._app(scope, body.receive, sending)
        except _Refused as refused:
            if not responded:
                await refused.response(scope, receive, send)


class _Body:
    """The request body as the route reads it, within limits.

    At the first read the route is known (the router has put its endpoint in the scope): a route that declared
    `streamed_body` gets its body chunk by chunk, counted against its own limit; any other gets it whole, read
    here up to the default limit and, if JSON, checked for depth and unstorable text before anyone parses it.
    A `Content-Length` over the limit is refused before a byte is read. The timeout bounds the time spent waiting
    for the client, summed over the body: a route's own work between reads (a streamed import's) does not count.
    """

    def __init__(self, scope: Scope, receive: Receive, default: StreamedBody, max_json_depth: int) -> None:
        self._scope = scope
        self._receive = receive
        self._default = default
        self._max_json_depth = max_json_depth
        self._waited = 0.0
        self._limit: StreamedBody | None = None
        self._read = 0
        self._done = False

    async def receive(self) -> Message:
        if self._limit is None:
            streamed = getattr(self._scope.get("endpoint"), "streamed_body", None)
            self._limit = streamed or self._default
            declared = _content_length(self._scope)
            if declared is not None and declared > self._limit.max_bytes:
                raise _Refused(too_large(self._limit.max_bytes))
            if streamed is None:
                return await self._whole()
        if self._done:
            return await self._receive()
        return await self._counted()

    async def _whole(self) -> Message:
        chunks = []
        while not self._done:
            message = await self._counted()
            if message["type"] != "http.request":
                return message  # the client left
            chunks.append(message.get("body", b""))
        body = b"".join(chunks)
        if _is_json(self._scope):
            if _UNSTORABLE.search(body):
                raise _Refused(_unstorable())
            if too_deep(body, self._max_json_depth):
                depth = self._max_json_depth
                raise _Refused(problem(422, "too_deeply_nested", f"JSON may be nested at most {depth} levels deep."))
        return {"type": "http.request", "body": body, "more_body": False}

    async def _counted(self) -> Message:
        assert self._limit is not None
        loop = asyncio.get_running_loop()
        waiting_since = loop.time()
        try:
            message = await asyncio.wait_for(self._receive(), max(self._limit.timeout_seconds - self._waited, 0))
        except TimeoutError:
            seconds = self._limit.timeout_seconds
            response = problem(408, "body_timeout", f"The request body must arrive within {seconds:g} seconds.")
            response.headers["connection"] = "close"
            raise _Refused(response) from None
        finally:
            self._waited += loop.time() - waiting_since
        if message["type"] != "http.request":
            self._done = True
            return message
        self._read += len(message.get("body", b""))
        if self._read > self._limit.max_bytes:
            raise _Refused(too_large(self._limit.max_bytes))
        self._done = not message.get("more_body", False)
        return message


def too_deep(body: bytes, max_depth: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than `max_depth` (brackets inside strings do not count)."""
    depth = 0
    for bracket in _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if bracket in _OPENING:
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def _unstorable() -> JSONResponse:
    return problem(422, "text_unstorable", "Text may not contain NUL characters or lone surrogates.")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


def _is_json(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    return b"json" in headers.get(b"content-type", b"")


def serve(app: ASGIApp, settings: ServiceSettings) -> None:
    """Run `app` on uvicorn with bounded headers and idle connections, and without uvicorn's access log."""
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        http="h11",
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
        timeout_keep_alive=settings.http_keep_alive_seconds,  # type: ignore[arg-type]  # uvicorn takes a float too
        limit_concurrency=settings.http_max_connections,
        server_header=False,
    )
