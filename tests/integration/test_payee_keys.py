"""Issue #16 for payment instructions, on real Kafka and PostgreSQL: benefits pays two citizens through the
back-office, one is erased, and then that citizen's CPR number is in no record on any topic (raw bytes: key, value,
headers), their payee key is tombstoned on the compacted key topic and gone from the back-office, and the month
still reconciles."""

from collections.abc import AsyncIterator

import httpx
import pytest

from contracts.benefits import PAYEE_KEYS, PayeeKeyDestroyed, PayeeKeyIssued
from contracts.catalog import EVENT_TYPES
from contracts.envelope import decode
from demo.backoffice import BackofficeSettings
from demo.backoffice import create_runtime as backoffice_runtime
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime
from jobbro.testing import create_database, drop_database, encodings, read_namespace, running
from services.benefits import payment_run
from services.benefits.app import create_app
from services.benefits.handlers import Context
from services.benefits.rules import Month
from services.benefits.settings import BenefitsSettings
from tests.benefits.factories import import_rows
from tests.benefits.integration.conftest import ctx, eventually, register, service, settings  # noqa: F401
from tests.identity import Callers

NOVEMBER = Month(2026, 11)
REASON = "Borgerens anmodning om sletning, GDPR art. 17, sag 2026-0043"


@pytest.fixture
async def backoffice(infra: Infrastructure, topic_prefix: str) -> AsyncIterator[Runtime]:
    dsn = await create_database(infra)
    config = BackofficeSettings(
        pg_dsn=dsn,
        **infra.kafka_as("payment-back-office").settings(),
        topic_prefix=topic_prefix,
        retry_base_seconds=0.05,
    )
    async with running(backoffice_runtime(config)) as runtime:
        yield runtime
    await drop_database(infra, dsn)


async def test_an_erased_citizens_cpr_number_is_on_no_topic_and_their_payee_key_is_tombstoned_and_gone(
    service: Runtime,  # noqa: F811
    backoffice: Runtime,
    ctx: Context,  # noqa: F811
    settings: BenefitsSettings,  # noqa: F811
    kafka: KafkaAccess,
    topic_prefix: str,
    callers: Callers,
    authenticator: object,
) -> None:
    erased_row, kept_row = import_rows(2)
    erased_ref, kept_ref = await register(service.pool, ctx, erased_row, kept_row)
    run = await payment_run.run(service.pool, ctx, NOVEMBER, batch_size=100, source=settings.source)
    await eventually(
        lambda: service.pool.fetchval("SELECT count(*) = 2 FROM payment_instructions WHERE state = 'settled'"), 60
    )
    app = create_app(settings, service, authenticator=authenticator)  # type: ignore[arg-type]

    def client(headers: dict[str, str]) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://benefits", headers=headers)

    async with client(callers.operator()) as operator, client(callers.auditor()) as auditor:
        erased = await operator.post("/v1/admin/erasures", json={"cpr": erased_row["cpr"], "reason": REASON})
        await eventually(
            lambda: backoffice.pool.fetchval(
                "SELECT wrapped_key IS NULL AND destroyed_at IS NOT NULL FROM payee_keys WHERE citizen_ref = $1",
                erased_ref,
            )
        )
        november = (await auditor.get("/v1/ledger/reconciliation/2026-11")).json()
    records = await read_namespace(kafka, topic_prefix)

    assert erased.status_code == 201 and run.issued == 2
    forms = {form.encode() for number in (erased_row["cpr"], kept_row["cpr"]) for form in encodings(number)}
    forms |= {f"{number[:6]}-{number[6:]}".encode() for number in (erased_row["cpr"], kept_row["cpr"])}
    raw = [b"".join([r.key or b"", r.value or b"", *(v for _, v in r.headers)]) for r in records]
    assert [r.topic for r, blob in zip(records, raw, strict=True) if any(f in blob for f in forms)] == []
    keys = [decode(r.headers, r.value, EVENT_TYPES)[1] for r in records if r.topic == topic_prefix + PAYEE_KEYS]
    assert sorted(type(e).__name__ for e in keys) == ["PayeeKeyDestroyed", "PayeeKeyIssued", "PayeeKeyIssued"]
    [tombstone] = [r for r in records if r.topic == topic_prefix + PAYEE_KEYS and r.value is None]
    assert tombstone.key == erased_ref.encode()
    assert PayeeKeyDestroyed(citizen_ref=erased_ref) in keys
    assert {e.citizen_ref for e in keys if isinstance(e, PayeeKeyIssued)} == {erased_ref, kept_ref}
    kept = await backoffice.pool.fetch("SELECT citizen_ref FROM payee_keys WHERE wrapped_key IS NOT NULL")
    assert [row["citizen_ref"] for row in kept] == [kept_ref]
    assert await service.pool.fetchval("SELECT array_agg(citizen_ref) FROM payee_keys") == [kept_ref]
    total = november["total"]
    assert (total["instructions"], total["issued_ore"], total["settled_ore"]) == (2, run.issued_ore, run.issued_ore)
    assert total["issued_ore"] == total["settled_ore"] + total["failed_ore"] + total["outstanding_ore"]
