"""The subsidy service in this process on real Kafka and PostgreSQL, driven through its HTTP API.

One service per test module (a fresh database and topic namespace), so a module's tests share the start-up;
each test uses its own employers, P-numbers and citizens, and reads only its own application's events.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tomllib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from contracts import subsidy
from contracts.catalog import EVENT_TYPES
from contracts.envelope import Event, Metadata, decode
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.keyring import link_sealer
from jobbro.runtime import Runtime
from jobbro.testing import create_database, drop_database, provisioned_prefix, publish, running
from jobbroctl.stack import delete_namespace
from rules import REPOSITORY_RULES_DIR, Rulebook, RuleNotInForce, SubsidyRates
from services.subsidy.app import create_app, create_context, create_runtime
from services.subsidy.handlers import Context
from services.subsidy.settings import SubsidySettings
from services.subsidy.signing import sign
from tests.identity import Callers
from tests.subsidy.factories import TODAY, Employer, Pki, make_pki


@pytest.fixture(scope="module")
def overrides() -> dict[str, Any]:
    """Settings a module changes (a test module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
async def module_database(infra: Infrastructure) -> AsyncIterator[str]:
    dsn = await create_database(infra)
    yield dsn
    await drop_database(infra, dsn)


@pytest.fixture(scope="module")
async def module_prefix(kafka: KafkaAccess) -> AsyncIterator[str]:
    prefix = await provisioned_prefix(kafka)
    yield prefix
    await delete_namespace(kafka, prefix)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's rules, with wage-subsidy rates for the starts the tests use even where none are held."""
    return rules_with_rates(tmp_path_factory.mktemp("rules") / "rules", TODAY + timedelta(days=120))


def rules_with_rates(directory: Path, through: date) -> Path:
    """A copy of the repository's rules; where no rates are held for `through`, the latest held rates carried
    forward as a test version, so a test of other rules does not depend on which years' rates the repository holds
    (confirmation and caseworkers' approvals need a rate, D5)."""
    shutil.copytree(REPOSITORY_RULES_DIR, directory)
    try:
        Rulebook.load(directory).in_force(SubsidyRates, through)
    except RuleNotInForce:
        held = [tomllib.loads(path.read_text()) for path in (directory / "subsidy_rates").glob("*.toml")]
        latest = max(held, key=lambda version: version["valid_from"])
        rates = "\n".join(f"{category} = {rate}" for category, rate in latest["hourly_rates"].items())
        (directory / "subsidy_rates" / "test.toml").write_text(
            f'rule_set_version = "subsidy-rates-test"\nvalid_from = {latest["valid_to"] + timedelta(days=1)}\n'
            f'sources = ["tests: {latest["rule_set_version"]} carried forward"]\n\n[hourly_rates]\n{rates}\n'
        )
    return directory


@dataclass
class Subsidy:
    """The running service and what a test needs to play employer, caseworker, benefits and activation."""

    settings: SubsidySettings
    runtime: Runtime[Context]
    client: httpx.AsyncClient
    issuer: Callers
    """Authorization headers for employers (with the signing right), caseworkers, auditors."""
    pki: Pki

    async def submit(
        self, form: dict[str, Any], employer: Employer, *, key: str | None = None, signature: str | None = None
    ) -> httpx.Response:
        """POST a form signed by `employer`'s certificate (or with the given signature)."""
        signature = signature or sign(form, employer.signer.key, [employer.signer.cert])
        return await self.client.post(
            "/v1/applications",
            json={"application": form, "signature": signature},
            headers={**self.issuer.employer(employer.cvr), "Idempotency-Key": key or str(uuid4())},
        )

    async def submitted(self, form: dict[str, Any], employer: Employer) -> dict[str, Any]:
        response = await self.submit(form, employer)
        assert response.status_code == 201, response.text
        return response.json()

    async def view(self, application: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        response = await self.client.get(f"/v1/applications/{application['id']}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def until(
        self, application: dict[str, Any], headers: dict[str, str], state: str, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Poll the application until it is in `state`."""
        return await self.eventually(application, headers, lambda found: found["state"] == state, timeout)

    async def eventually(
        self,
        application: dict[str, Any],
        headers: dict[str, str],
        check: Callable[[dict[str, Any]], bool],
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Poll the application until `check` holds for it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not check(found := await self.view(application, headers)):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"still {found['state']} after {timeout}s: {found['history']}")
            await asyncio.sleep(0.1)
        return found

    def link_token(self, event: subsidy.RepresentativeApprovalRequested) -> str:
        """The link's token, opened from the approval event as notify opens it (with the shared seal key)."""
        assert event.sealed_link is not None
        sealer = link_sealer(self.settings.link_seal_keys, setting="test")
        return json.loads(sealer.open(event.sealed_link))["token"]

    async def answer(self, *events: Event) -> list[Metadata]:
        """Publish answers as benefits and activation would; their envelopes, in order."""
        return await publish(self.settings.kafka, self.settings.topic_prefix, *events, source="/test/stand-in")

    async def published(self, application: dict[str, Any], expect: int, timeout: float = 30.0) -> list[Event]:
        """The application's events on the subsidy topic, in order: at least `expect`, plus any that follow soon."""
        records = await self.records(application, expect, timeout)
        return [decode(record.headers, record.value, EVENT_TYPES)[1] for record in records]

    async def records(self, application: dict[str, Any], expect: int, timeout: float = 30.0) -> list[ConsumerRecord]:
        """The application's records on the subsidy topic as they lie there, bytes and headers, in order."""
        consumer = AIOKafkaConsumer(
            self.settings.topic_prefix + subsidy.TOPIC,
            **self.settings.kafka.client_kwargs(),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        try:
            found: list[ConsumerRecord] = []
            loop = asyncio.get_running_loop()
            deadline, settle = loop.time() + timeout, None
            while loop.time() < (settle or deadline):
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    found += [r for r in records if r.key == application["id"].encode()]
                if settle is None and len(found) >= expect:
                    settle = loop.time() + 1.0
            return found
        finally:
            await consumer.stop()


@pytest.fixture(scope="module")
async def service(
    module_database: str,
    module_prefix: str,
    kafka: KafkaAccess,
    pki: Pki,
    rules_dir: Path,
    overrides: dict[str, Any],
    oidc_issuer: str,
    callers: Callers,
) -> AsyncIterator[Subsidy]:
    settings = SubsidySettings(
        pg_dsn=module_database,
        **kafka.settings(),
        topic_prefix=module_prefix,
        outbox_poll_seconds=0.1,
        retry_base_seconds=0.05,
        rules_dir=rules_dir,
        trust_anchors=pki.anchors,
        trust_crls=(pki.crl,),
        oidc_issuer=oidc_issuer,
        **overrides,
    )
    runtime = create_runtime(settings, create_context(settings))
    async with running(runtime):
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://subsidy") as client:
            yield Subsidy(settings, runtime, client, callers, pki)
