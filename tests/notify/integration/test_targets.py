"""Webhook targets on the real notify app: nothing inside the deployment can be subscribed to, a name rebound to
loopback after subscribing is refused at delivery, and a redirect is never followed."""

from collections.abc import Callable
from typing import Any

import pytest

from contracts.notify import WEBHOOK_DEAD_LETTERS, WebhookDeadLettered
from contracts.subsidy import PlacementExtended
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import publish, read_events
from services.notify.targets import resolve
from tests.example.process import free_port
from tests.notify.dns import FakeDns
from tests.notify.integration.conftest import (
    SettingsFactory,
    WebhookReceiver,
    about,
    running_notify,
    serving,
    submitted,
)

SUBSCRIPTIONS = "/v1/webhooks/subscriptions"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1:8102/admin/citizens/import", "127.0.0.1 is a loopback address"),
        ("https://localhost/hook", "localhost is a loopback address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("https://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://127.0.0.1:15432/", "127.0.0.1 is a loopback address"),  # the database's port
        ("https://[::ffff:10.0.0.1]/hook", "a private address (IPv4 inside IPv6)"),
        ("http://integrator.example/hook", "the URL must use https"),
    ],
)
async def test_a_subscription_to_a_target_inside_the_deployment_is_refused_naming_why(
    settings_for: SettingsFactory, url: str, reason: str, authenticator: Authenticator, integrator: dict[str, str]
) -> None:
    async with running_notify(
        settings_for(webhook_require_https=True), authenticator, integrator, dns=resolve
    ) as api:  # the system's DNS
        refused = await api.post(SUBSCRIPTIONS, json={"url": url, "event_types": [PlacementExtended.type]})

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "subscription_refused"
    assert reason in refused.json()["detail"]


async def test_a_subscription_cannot_be_moved_inside_the_deployment_by_reactivating_it(
    settings_for: SettingsFactory, authenticator: Authenticator, integrator: dict[str, str]
) -> None:
    async with running_notify(settings_for(webhook_require_https=True), authenticator, integrator) as api:
        created = await api.post(
            SUBSCRIPTIONS, json={"url": "https://erp.example/hook", "event_types": [PlacementExtended.type]}
        )
        moved = await api.post(
            f"{SUBSCRIPTIONS}/{created.json()['id']}/reactivate", json={"url": "https://169.254.169.254/"}
        )
        kept = await api.get(f"{SUBSCRIPTIONS}/{created.json()['id']}")

    assert moved.status_code == 422 and "cloud metadata" in moved.json()["detail"]
    assert kept.json()["url"] == "https://erp.example/hook"


async def test_a_name_rebound_to_loopback_after_subscribing_is_refused_at_delivery(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    receiver_port: int,
    authenticator: Authenticator,
    integrator: dict[str, str],
) -> None:
    """DNS rebinding: the name was public when checked; at delivery it points at a service on loopback."""
    receiver = WebhookReceiver(failures=0)
    dns = FakeDns()  # hooks.example is public for now
    settings = settings_for(webhook_allowed_targets=(), delivery_max_attempts=2)
    url = f"http://hooks.example:{receiver_port}/jobbro-events"
    application = submitted()
    async with serving(receiver, receiver_port), running_notify(settings, authenticator, integrator, dns=dns) as api:
        created = await api.post(
            SUBSCRIPTIONS, json={"url": url, "event_types": [PlacementExtended.type], "secret": receiver.secret}
        )
        assert created.status_code == 201, created.text
        dns.point("hooks.example", "127.0.0.1")
        await publish(kafka, topic_prefix, application, about(PlacementExtended, application))
        [(_, dead)] = await read_events(kafka, topic_prefix + WEBHOOK_DEAD_LETTERS, expect=1)

    assert isinstance(dead, WebhookDeadLettered)
    assert dead.reason.startswith("target refused: hooks.example is a loopback address (127.0.0.1)")
    assert dead.attempts == 1  # refused for good, not retried
    assert receiver.received == []


class _Redirect:
    """Answers every request with a redirect to `location`."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        self.requests += 1
        headers = [(b"location", self.location.encode())]
        await send({"type": "http.response.start", "status": 307, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    kafka: KafkaAccess,
    topic_prefix: str,
    settings_for: SettingsFactory,
    receiver_port: int,
    authenticator: Authenticator,
    integrator: dict[str, str],
) -> None:
    inside = WebhookReceiver(failures=0)
    inside_port = free_port()
    redirect = _Redirect(f"http://127.0.0.1:{inside_port}/jobbro-events")
    allowed = (f"127.0.0.1:{receiver_port}", f"127.0.0.1:{inside_port}")  # even an allowed target: no redirects
    settings = settings_for(webhook_allowed_targets=allowed, delivery_max_attempts=1)
    application = submitted()
    async with (
        serving(redirect, receiver_port) as url,
        serving(inside, inside_port),
        running_notify(settings, authenticator, integrator) as api,
    ):
        created = await api.post(
            SUBSCRIPTIONS, json={"url": url, "event_types": [PlacementExtended.type], "secret": inside.secret}
        )
        assert created.status_code == 201, created.text
        await publish(kafka, topic_prefix, application, about(PlacementExtended, application))
        [(_, dead)] = await read_events(kafka, topic_prefix + WEBHOOK_DEAD_LETTERS, expect=1)

    assert isinstance(dead, WebhookDeadLettered)
    assert dead.reason == "HTTP 307: redirects are not followed"
    assert redirect.requests == 1 and inside.received == []
