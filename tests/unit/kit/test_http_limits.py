"""The kit's request limits, in process: every service's app as `create_http_app` builds it, called over ASGI.

Bodies are fed through a `receive` that counts what the app read, so "refused before reading it" is a count,
not a time. The runtime is never started (no route here needs PostgreSQL or Kafka).
"""

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any

import httpx
import pytest
import structlog
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from jobbro.http_limits import streamed_body, too_deep
from jobbro.runtime import Runtime, create_http_app
from jobbro.settings import ServiceSettings

LIMIT = 64 * 1024
CHUNK = 8 * 1024
TOKEN = "tkn-5f0c1e9a7d2b4c38"
"""Stands for a representative's link token: it must appear in no log line and no error body."""


class Item(BaseModel):
    number: int
    note: str = ""


def _app(**settings: Any) -> Any:
    """A service's app with routes of each kind; `app.state.calls` names the handlers that ran."""
    router = APIRouter()
    calls: list[str] = []

    @router.post("/items")
    async def items(body: list[Item]) -> int:
        calls.append("items")
        return len(body)

    @router.post("/anything")
    async def anything(body: dict[str, Any]) -> int:
        calls.append("anything")
        return len(body)

    @router.post("/upload")
    @streamed_body(4 * LIMIT, timeout_seconds=10)
    async def upload(request: Request) -> int:
        calls.append("upload")
        return sum([len(chunk) async for chunk in request.stream()])

    @router.get("/approval")
    async def approval(token: Annotated[str, Query(max_length=16)]) -> str:
        calls.append("approval")
        raise RuntimeError("the approval failed")

    app = create_http_app(
        Runtime(
            ServiceSettings(**{"service": "limits-test", "log_json": True, "http_max_body_bytes": LIMIT, **settings})
        ),
        router,
    )
    app.state.calls = calls
    return app


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`create_http_app` points the root handler at pytest's capture stream: put the previous set-up back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


class _Body:
    """An ASGI `receive` handing out a body chunk by chunk and counting the bytes taken."""

    def __init__(self, total: int, chunk: bytes = b" " * CHUNK) -> None:
        self.total, self.chunk, self.taken = total, chunk, 0

    async def receive(self) -> dict[str, Any]:
        size = min(len(self.chunk), self.total - self.taken)
        self.taken += size
        return {"type": "http.request", "body": self.chunk[:size], "more_body": self.taken < self.total}


class _Stalled(_Body):
    """A client that sends the first chunk of its body and then nothing more."""

    async def receive(self) -> dict[str, Any]:
        if self.taken:
            await asyncio.Event().wait()
        return await super().receive()


async def _call(app: Any, path: str, body: _Body, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
    }
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, body.receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def test_a_body_declared_over_the_limit_is_refused_with_413_before_a_byte_is_read() -> None:
    app, body = _app(), _Body(10 * 1024 * 1024)

    status, answer = await _call(app, "/items", body, [(b"content-length", b"10485760")])

    assert (status, json.loads(answer)["code"]) == (413, "body_too_large")
    assert body.taken == 0
    assert app.state.calls == []


async def test_a_chunked_body_is_refused_with_413_as_soon_as_it_passes_the_limit() -> None:
    app, body = _app(), _Body(10 * 1024 * 1024)

    status, _answer = await _call(app, "/items", body, [(b"transfer-encoding", b"chunked")])

    assert status == 413
    assert body.taken <= LIMIT + CHUNK
    assert app.state.calls == []


async def test_a_body_that_stops_arriving_is_cut_with_408() -> None:
    app, body = _app(http_body_timeout_seconds=0.2), _Stalled(4 * CHUNK)

    status, answer = await _call(app, "/items", body, [(b"content-length", str(4 * CHUNK).encode())])

    assert (status, json.loads(answer)["code"]) == (408, "body_timeout")
    assert body.taken == CHUNK
    assert app.state.calls == []


async def test_a_route_streaming_its_own_body_takes_more_up_to_its_declared_limit() -> None:
    app = _app()

    within = await _call(app, "/upload", _Body(3 * LIMIT), [(b"content-type", b"text/csv")])
    over = _Body(10 * LIMIT)
    beyond = await _call(app, "/upload", over, [(b"content-type", b"text/csv")])

    assert within == (200, str(3 * LIMIT).encode())
    assert beyond[0] == 413
    assert over.taken <= 4 * LIMIT + CHUNK


async def test_json_nested_deeper_than_the_limit_is_refused_before_a_handler_parses_it() -> None:
    app = _app()
    deep = b'{"a": ' * 100 + b"1" + b"}" * 100
    shallow = b'{"a": ' * 30 + b'"[[[[{{{{"' + b"}" * 30  # brackets inside a string do not nest

    refused = await _call(app, "/anything", _Body(len(deep), deep), [(b"content-type", b"application/json")])
    taken = await _call(app, "/anything", _Body(len(shallow), shallow), [(b"content-type", b"application/json")])

    assert (refused[0], json.loads(refused[1])["code"]) == (422, "too_deeply_nested")
    assert taken == (200, b"1")
    assert app.state.calls == ["anything"]


def test_nesting_depth_counts_brackets_outside_strings_only() -> None:
    assert too_deep(b"[" * 33 + b"]" * 33, 32)
    assert not too_deep(b"[" * 32 + b"]" * 32, 32)
    assert not too_deep(b'["\\"[[[[[[", {"k": "]]]]"}]', 2)
    assert too_deep(b'["\\"", [[]]]', 2)


async def test_the_answer_to_a_200_kb_invalid_body_is_small_and_never_echoes_the_input() -> None:
    app = _app(http_max_body_bytes=1024 * 1024)
    content = json.dumps([{"number": f"not-a-number-{TOKEN}", "note": TOKEN}] * 2500).encode()
    assert 200_000 < len(content) < 1024 * 1024

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        response = await client.post("http://test/items", content=content, headers={"content-type": "application/json"})

    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "request_invalid")
    assert len(response.content) < 4096
    assert TOKEN not in response.text
    assert problem["errors_total"] == 2500 and len(problem["errors"]) == 10
    assert app.state.calls == []


async def test_no_log_line_or_error_holds_a_token_sent_in_the_query_string(capsys: pytest.CaptureFixture[str]) -> None:
    app = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False)) as client:
        capsys.readouterr()
        answered = [
            await client.get(f"http://test/approval?token={TOKEN}x"),  # too long: refused by validation
            await client.get(f"http://test/approval?token={TOKEN[:16]}"),  # valid: the handler fails
            await client.get(f"http://test/nowhere?token={TOKEN}"),
            await client.post(f"http://test/items?token={TOKEN}", content=b"[{", headers={"content-type": "x/json"}),
        ]

    logged = capsys.readouterr().err
    assert [r.status_code for r in answered] == [422, 500, 404, 422]
    access = [json.loads(line) for line in logged.splitlines() if '"http_request"' in line]
    assert [(line["method"], line["path"], line["status"]) for line in access] == [
        ("GET", "/approval", 422),
        ("GET", "/approval", 500),
        ("GET", "/nowhere", 404),
        ("POST", "/items", 422),
    ]
    assert all(isinstance(line["duration_ms"], float) and line["client"] == "127.0.0.1" for line in access)
    assert TOKEN[:16] not in logged
    assert not any(TOKEN[:16] in r.text for r in answered)
