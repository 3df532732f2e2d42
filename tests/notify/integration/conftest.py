"""Notify on real Kafka and PostgreSQL, with a real SMTP server and a real webhook receiver on loopback."""

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from standardwebhooks import Webhook, WebhookVerificationError

from contracts.catalog import EVENT_TYPES
from contracts.common import Language, Period
from contracts.envelope import Event
from contracts.examples import example
from contracts.notify import TOPIC as NOTIFICATIONS
from contracts.notify import NotificationEvent
from contracts.subsidy import ApplicationSubmitted, ApplicationSubmittedV2
from jobbro.kafka_access import KafkaAccess
from jobbro.keyring import link_sealer
from jobbro.principal import Authenticator
from jobbro.testing import read_events
from services.notify.app import create_app, create_context, create_runtime
from services.notify.settings import NotifySettings
from services.notify.webhooks import new_secret
from tests.example.process import free_port
from tests.identity import Callers
from tests.notify.dns import FakeDns

SettingsFactory = Callable[..., NotifySettings]


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts; it refuses the addresses in `refused` with 550."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refused:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1 and a free port (in its own thread, as aiosmtpd runs)."""
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass(frozen=True)
class Received:
    delivery_id: str
    body: bytes
    verified: bool
    status: int


class WebhookReceiver:
    """An ASGI app that checks each request's signature as an integrator would (the `standardwebhooks` library),
    and fails the first `failures`."""

    def __init__(self, failures: int | None, secret: str | None = None) -> None:
        self.secret = secret or new_secret()
        self.failures = failures
        """Requests to answer 503 before answering 204; None: always 503."""
        self.received: list[Received] = []

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        verified = self.verify(headers, body)
        failing = self.failures is None or len(self.received) < self.failures
        status = 401 if not verified else 503 if failing else 204
        self.received.append(Received(headers.get("webhook-id", ""), body, verified, status))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class TracedReceiver(WebhookReceiver):
    """Keeps the `traceparent` header of each request too."""

    def __init__(self) -> None:
        super().__init__(failures=0)
        self.traceparents: list[str | None] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        self.traceparents.append(headers.get("traceparent"))
        await super().__call__(scope, receive, send)


@pytest.fixture
def receiver_port() -> int:
    """The loopback port this test's webhook receiver listens on: the one `settings_for` lets notify call."""
    return free_port()


@pytest.fixture
def other_receiver_port() -> int:
    """A second allowed receiver's port, for tests that watch two receivers at once."""
    return free_port()


@asynccontextmanager
async def serving(app: Any, port: int, **tls: str) -> AsyncIterator[str]:
    """Serve `app` over real HTTP on loopback at `port` (HTTPS given `ssl_certfile` and `ssl_keyfile`); yield its
    URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, **tls)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the webhook receiver did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}/jobbro-events"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def settings_for(
    database: str, kafka: KafkaAccess, topic_prefix: str, tmp_path: Path, receiver_port: int, other_receiver_port: int
) -> SettingsFactory:
    """Settings on this test's database, topics and Digital Post directory, with short waits everywhere; the
    receivers' loopback ports are the only non-public webhook targets allowed (as the local stack allows its own)."""

    def build(**overrides: Any) -> NotifySettings:
        ports = (receiver_port, other_receiver_port)
        allowed = {"webhook_allowed_targets": tuple(f"127.0.0.1:{port}" for port in ports)}
        return _settings(database, kafka, topic_prefix, tmp_path / "digital-post", **(allowed | overrides))

    return build


def _settings(database: str, kafka: KafkaAccess, topic_prefix: str, post: Path, **overrides: Any) -> NotifySettings:
    defaults: dict[str, Any] = {
        "pg_dsn": database,
        **kafka.settings(),
        "topic_prefix": topic_prefix,
        "digital_post_dir": post,
        "outbox_poll_seconds": 0.1,
        "retry_base_seconds": 0.05,
        "delivery_poll_seconds": 0.05,
        "delivery_backoff_seconds": 0.05,
        "delivery_backoff_max_seconds": 0.2,
        "delivery_concurrency": 1,  # deliveries go out in the order they were recorded: a later one proves the earlier
        "webhook_require_https": False,
        "log_json": True,
    }
    return NotifySettings(**(defaults | overrides))


@pytest.fixture
def integrator(callers: Callers) -> dict[str, str]:
    """An integrator granted every event type of the catalog (sensitive fields not included): what it may not
    subscribe to, webhooks refuse for not offering it."""
    return callers.integrator(*EVENT_TYPES)


@asynccontextmanager
async def running_notify(
    settings: NotifySettings,
    authenticator: Authenticator | None = None,
    headers: dict[str, str] | None = None,
    dns: FakeDns | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The whole notify app in this process (consumers, relay, delivery worker), and a client for its API sending
    `headers` (an integrator's token) unless a request names others; webhook host names resolve through `dns`
    (default: every name to a public address)."""
    runtime = create_runtime(settings, create_context(settings, dns or FakeDns()))
    app = create_app(settings, runtime, authenticator=authenticator)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify", headers=headers) as client:
            yield client


def submitted(**changes: Any) -> ApplicationSubmittedV2:
    """An application with fresh ids, as subsidy publishes it."""
    values = {
        "application_id": uuid4(),
        "citizen_ref": f"c-{uuid4().hex[:16]}",
        "period": Period(start=date(2026, 3, 2), end=date(2026, 5, 29)),
        "employer_language": Language.DA,
        "citizen_language": Language.DA,
    }
    return example(ApplicationSubmittedV2).model_copy(update=values | changes)


def submitted_v1(**changes: Any) -> ApplicationSubmitted:
    """An application as subsidy published it before v2, with the citizen's CPR number."""
    return ApplicationSubmitted(**submitted(**changes).model_dump(), citizen_cpr="0101901234")


def sealed_link(settings: NotifySettings, request_id: UUID, to: str, token: str) -> str:
    """A link token sealed as subsidy seals it, under the seal key these settings share with subsidy."""
    sealer = link_sealer(settings.link_seal_keys, setting="test")
    return sealer.seal(json.dumps({"token": token, "request_id": str(request_id), "to": to}))


def about(model: type[Event], application: ApplicationSubmitted | ApplicationSubmittedV2, **changes: Any) -> Event:
    """The catalog example of `model`, about `application`."""
    fields = model.model_fields
    values = {name: getattr(application, name) for name in ("application_id", "citizen_ref") if name in fields}
    return example(model).model_copy(update=values | changes)


async def notifications(kafka: KafkaAccess, topic_prefix: str, expect: int) -> list[NotificationEvent]:
    """What notify published about its deliveries, read until `expect` arrived and then a second longer."""
    return [event for _, event in await read_events(kafka, topic_prefix + NOTIFICATIONS, expect=expect)]
