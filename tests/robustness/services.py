"""All four services on one topic namespace, each on its own database: their settings, built as their tests do."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobbro.infra import Infrastructure
from jobbro.testing import create_database, drop_database
from services.activation.settings import ActivationSettings
from services.benefits.settings import BenefitsSettings
from services.notify.settings import NotifySettings
from services.subsidy.settings import SubsidySettings
from tests.keycloak import RealmUsers
from tests.subsidy.factories import Pki

NAMES = ("subsidy", "benefits", "activation", "notify")


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released): SMTP there fails fast instead of hanging."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Stack:
    """Where the four services run: the broker, one topic prefix, a database per service, and subsidy's trust."""

    kafka_bootstrap: str
    topic_prefix: str
    databases: dict[str, str]
    pki: Pki
    issuer: RealmUsers
    """Real Keycloak tokens, which every service checks against the same development realm."""
    digital_post: Path

    def _common(self, name: str) -> dict[str, Any]:
        return {
            "pg_dsn": self.databases[name],
            "kafka_bootstrap": self.kafka_bootstrap,
            "topic_prefix": self.topic_prefix,
            "pg_pool_size": 4,
            "outbox_poll_seconds": 0.1,
            "retry_base_seconds": 0.05,
            "log_json": True,
            "oidc_issuer": self.issuer.issuer,
        }

    def subsidy(self) -> SubsidySettings:
        return SubsidySettings(
            **self._common("subsidy"),
            trust_anchors=self.pki.anchors,
            trust_crls=(self.pki.crl,),
            link_base_url="https://jobbro.example/v1/representative-approval",
        )

    def benefits(self) -> BenefitsSettings:
        return BenefitsSettings(**self._common("benefits"))

    def activation(self) -> ActivationSettings:
        return ActivationSettings(**self._common("activation"))

    def notify(self, **changes: Any) -> NotifySettings:
        defaults = {
            "smtp_host": "127.0.0.1",
            "smtp_port": closed_port(),
            "digital_post_dir": self.digital_post,
            "delivery_poll_seconds": 0.05,
            "webhook_require_https": False,
        }
        return NotifySettings(**(self._common("notify") | defaults | changes))


@asynccontextmanager
async def fresh_databases(infra: Infrastructure) -> AsyncIterator[dict[str, str]]:
    """A new, empty database per service, dropped afterwards."""
    created: dict[str, str] = {}
    try:
        for name in NAMES:
            created[name] = await create_database(infra)
        yield created
    finally:
        for dsn in created.values():
            await drop_database(infra, dsn)
