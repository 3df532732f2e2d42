"""One request never stalls the benefits service: the service as a real process (uvicorn, PostgreSQL, Kafka).

Requests go over raw sockets where the point is what the server does before the client has finished sending;
"before" is then a count of bytes sent, never a time.
"""

import asyncio
import contextlib
import csv
import io
import json
import selectors
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobbro.principal import Role
from services.benefits.settings import BenefitsSettings
from tests.benefits.events import PSEUDONYM_KEY
from tests.benefits.factories import import_rows
from tests.example.process import Process

ANSWER_SECONDS = 30.0
"""How long a test waits for an answer the server owes at once: only a server that never answers reaches it."""
PROBE_SECONDS = 1.5
"""A liveness probe's timeout (a supervisor's, e.g. Kubernetes' `timeoutSeconds`): a probe unanswered by then fails."""
TOKEN = "tkn-3c9e41d07ab25f68"


@pytest.fixture
async def benefits(settings: BenefitsSettings, tmp_path: Path) -> AsyncIterator[Process]:
    """`python -m services.benefits` on a free port; limits small enough to pass quickly, timeouts for the slow body."""
    process = Process(
        "services.benefits",
        {
            "BENEFITS_PG_DSN": settings.pg_dsn,
            **settings.kafka.environment("BENEFITS_"),
            "BENEFITS_TOPIC_PREFIX": settings.topic_prefix,
            "BENEFITS_PSEUDONYM_KEY": PSEUDONYM_KEY,
            "BENEFITS_LOG_JSON": "true",
            "BENEFITS_HTTP_BODY_TIMEOUT_SECONDS": "2",
            "BENEFITS_IMPORT_TIMEOUT_SECONDS": "5",
            "BENEFITS_IMPORT_MAX_BYTES": str(32 * 1024 * 1024),
            "BENEFITS_IMPORT_JSON_MAX_BYTES": str(1024 * 1024),
        },
        tmp_path / "benefits.log",
    )
    process.env["BENEFITS_HTTP_PORT"] = str(process.port)
    process.start()
    try:
        await process.wait_ready()
        yield process
    finally:
        process.terminate()


async def _connect(process: Process) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", process.port)


@pytest.fixture(scope="module")
def operator(token_for: Callable[..., str]) -> str:
    """A real operator's access token: the import admits operators only, and checks the role before the body."""
    return token_for(Role.OPERATOR)


def _head(path: str, media_type: str, length: int | None, token: str) -> bytes:
    framing = f"content-length: {length}" if length is not None else "transfer-encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nhost: benefits\r\nauthorization: Bearer {token}\r\n"
        f"content-type: {media_type}\r\n{framing}\r\n\r\n"
    ).encode()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Status, headers and JSON body of the response (the server owes it now: a hung server fails the test)."""
    status_line = await asyncio.wait_for(reader.readline(), ANSWER_SECONDS)
    assert status_line, "the server closed the connection without an answer"
    headers = {}
    while (line := await asyncio.wait_for(reader.readline(), ANSWER_SECONDS)) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), ANSWER_SECONDS)
    return int(status_line.split()[1]), headers, json.loads(body)


async def test_a_10_mb_json_import_is_refused_with_413_before_its_body_is_sent(
    benefits: Process, operator: str
) -> None:
    reader, writer = await _connect(benefits)
    writer.write(_head("/v1/admin/citizens/import", "application/json", 10 * 1024 * 1024, operator))
    await writer.drain()

    status, headers, problem = await _answer(reader)  # not a byte of the body sent

    assert (status, problem["code"]) == (413, "body_too_large")
    assert headers["connection"] == "close"
    assert await asyncio.wait_for(reader.read(), ANSWER_SECONDS) == b""  # and the connection is closed
    writer.close()


async def test_a_chunked_json_import_is_refused_with_413_before_it_is_all_sent(
    benefits: Process, operator: str
) -> None:
    sent, answer = await asyncio.to_thread(_send_chunked_until_answered, benefits.port, 16 * 1024 * 1024, operator)

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413"
    assert json.loads(rest.partition(b"\r\n\r\n")[2])["code"] == "body_too_large"
    assert sent < 16 * 1024 * 1024  # answered at its 1 MiB limit; what was sent meanwhile sat in socket buffers


def _send_chunked_until_answered(port: int, total: int, token: str) -> tuple[int, bytes]:
    """Send a chunked JSON body of `total` bytes, stopping as soon as an answer arrives; bytes sent and the answer."""
    piece = b"[" + b" " * (64 * 1024 - 1)
    chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_SECONDS) as sock:
        sock.sendall(_head("/v1/admin/citizens/import", "application/json", None, token))
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while not answer and (events := selector.select(ANSWER_SECONDS)):
                if any(mask & selectors.EVENT_READ for _key, mask in events):
                    answer = sock.recv(65536)
                    continue
                if sent < total:
                    try:
                        sock.sendall(chunk)
                        sent += len(piece)
                    except OSError:  # the server answered and closed while this was still sending
                        selector.modify(sock, selectors.EVENT_READ)
                else:  # all sent: end the body, then only wait for the answer
                    with contextlib.suppress(OSError):
                        sock.sendall(b"0\r\n\r\n")
                    selector.modify(sock, selectors.EVENT_READ)
        try:
            while data := sock.recv(65536):
                answer += data
        except OSError:
            pass
    return sent, answer


async def test_a_slow_body_is_cut_with_408_and_the_connection_closed(benefits: Process, operator: str) -> None:
    reader, writer = await _connect(benefits)
    header = ",".join(import_rows(1)[0]).encode() + b"\n"
    writer.write(_head("/v1/admin/citizens/import", "text/csv", 4096, operator) + header)  # and then nothing
    await writer.drain()

    status, headers, problem = await _answer(reader)

    assert (status, problem["code"]) == (408, "body_timeout")
    assert headers["connection"] == "close"
    assert await asyncio.wait_for(reader.read(), ANSWER_SECONDS) == b""
    writer.close()


async def test_a_large_csv_import_succeeds_while_every_liveness_probe_answers(benefits: Process, operator: str) -> None:
    rows = import_rows(200_000)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()} for row in rows)
    content = out.getvalue().encode()
    base = f"http://127.0.0.1:{benefits.port}"
    importing = True
    answered, failed = 0, 0

    async def probe() -> None:
        nonlocal answered, failed
        async with httpx.AsyncClient(base_url=base, timeout=PROBE_SECONDS) as client:
            while importing:
                try:
                    answered += (await client.get("/health/live")).status_code == 200
                except httpx.TransportError:
                    failed += 1
                await asyncio.sleep(0.05)

    probing = asyncio.create_task(probe())
    try:
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            response = await client.post(
                "/v1/admin/citizens/import",
                content=content,
                headers={"content-type": "text/csv", "authorization": f"Bearer {operator}"},
            )
    finally:
        importing = False
        await probing

    assert (response.status_code, response.json()["imported"]) == (200, 200_000), response.text[:2000]
    assert failed == 0
    assert answered > 0


async def test_no_log_line_holds_a_token_sent_in_a_query_string(benefits: Process, operator: str) -> None:
    base, bearer = f"http://127.0.0.1:{benefits.port}", {"authorization": f"Bearer {operator}"}
    async with httpx.AsyncClient(base_url=base, timeout=ANSWER_SECONDS, headers=bearer) as client:
        answers = [
            await client.get(f"/health/live?token={TOKEN}"),
            await client.get(f"/v1/ledger/reconciliation/not-a-month?token={TOKEN}"),
            await client.get(f"/nowhere?token={TOKEN}"),
            await client.post(
                f"/v1/admin/citizens/import?token={TOKEN}", content=b"cpr\n1\n", headers={"content-type": "text/csv"}
            ),
        ]
    benefits.terminate()  # every line written

    log = benefits.log()
    assert [a.status_code for a in answers] == [200, 422, 404, 422]
    access = [json.loads(line) for line in log.splitlines() if '"http_request"' in line]
    assert {(line["path"], line["status"]) for line in access} >= {
        ("/health/live", 200),
        ("/v1/ledger/reconciliation/not-a-month", 422),
        ("/nowhere", 404),
        ("/v1/admin/citizens/import", 422),
    }
    assert TOKEN not in log
