"""Erasing a citizen from the registry on real Kafka and PostgreSQL: the data key goes, the CPR number and the
citizen's circumstances are in no row, the ledger still reconciles, no later run pays them, and the registry takes
them in no more."""

import json
from collections.abc import Callable
from uuid import UUID

import httpx
import pytest

from contracts.benefits import ASSESSMENTS, PAYEE_KEYS, PAYMENT_INSTRUCTIONS, CitizenErased, PayeeKeyDestroyed
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime
from jobbro.shredding import KeyDestroyed
from jobbro.testing import read_events, tables_holding
from services.benefits import payment_run
from services.benefits.handlers import Context
from services.benefits.rules import Month
from services.benefits.settings import BenefitsSettings
from services.benefits.store import PgBenefits
from tests.benefits.factories import import_rows
from tests.benefits.integration.conftest import eventually, register
from tests.benefits.payees import payee_cprs
from tests.identity import Callers

REASON = "Borgerens anmodning om sletning, GDPR art. 17, sag 2026-0042"


async def test_an_erased_citizens_cpr_number_is_in_no_row_while_their_ledger_still_reconciles(
    service: Runtime,
    ctx: Context,
    settings: BenefitsSettings,
    kafka: KafkaAccess,
    topic_prefix: str,
    http: Callable[..., httpx.AsyncClient],
    callers: Callers,
) -> None:
    erased_row, kept_row = import_rows(2)
    erased_row |= {"birth_date": "1958-11-23", "unemployed_since": "2023-08-14"}  # found nowhere else
    erased_ref, kept_ref = await register(service.pool, ctx, erased_row, kept_row)
    await payment_run.run(service.pool, ctx, Month(2026, 11), batch_size=100, source=settings.source)
    issued = [e for _, e in await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=2)]
    keys = [e for _, e in await read_events(kafka, topic_prefix + PAYEE_KEYS, expect=2)]
    assert set(payee_cprs([*keys, *issued], settings.payee_key_keks).values()) == {erased_row["cpr"], kept_row["cpr"]}
    await eventually(lambda: service.pool.fetchval("SELECT count(*) = 0 FROM outbox"))
    async with service.pool.acquire() as conn:
        for personal in (erased_row["cpr"], erased_row["birth_date"], erased_row["unemployed_since"]):
            assert await tables_holding(conn, personal) == []  # sealed, not in the clear, hex or base64

    async with http(callers.operator()) as operator, http(callers.auditor()) as auditor:
        refused = await auditor.post("/v1/admin/erasures", json={"cpr": erased_row["cpr"], "reason": REASON})
        erased = await operator.post("/v1/admin/erasures", json={"cpr": erased_row["cpr"], "reason": REASON})
        later = await payment_run.run(service.pool, ctx, Month(2026, 12), batch_size=100, source=settings.source)
        november = (await auditor.get("/v1/ledger/reconciliation/2026-11")).json()
        again = await operator.post(
            "/v1/admin/citizens/import", content=json.dumps([erased_row]), headers={"content-type": "application/json"}
        )

    assert refused.status_code == 403
    assert erased.status_code == 201 and erased.json()["citizen_ref"] == erased_ref
    told = [
        e for _, e in await read_events(kafka, topic_prefix + ASSESSMENTS, expect=1) if isinstance(e, CitizenErased)
    ]
    assert [(e.erasure_id, e.citizen_ref) for e in told] == [(UUID(erased.json()["erasure_id"]), erased_ref)]
    keys_now = [e for _, e in await read_events(kafka, topic_prefix + PAYEE_KEYS, expect=3)]
    assert [e for e in keys_now if isinstance(e, PayeeKeyDestroyed)] == [PayeeKeyDestroyed(citizen_ref=erased_ref)]
    async with service.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM citizen_keys WHERE citizen_ref = $1", erased_ref) == 0
        assert await conn.fetchval("SELECT array_agg(citizen_ref) FROM payee_keys") == [kept_ref]
        for personal in (erased_row["cpr"], erased_row["birth_date"], erased_row["unemployed_since"]):
            assert await tables_holding(conn, personal) == []
        ledger = await conn.fetch("SELECT citizen_ref FROM payment_instructions")
    assert later.issued == 1  # the kept citizen's December only
    assert sorted(row["citizen_ref"] for row in ledger) == sorted([erased_ref, kept_ref, kept_ref])
    assert november["total"]["instructions"] == 2 and november["total"]["issued_ore"] == sum(
        e.amount_ore for e in issued
    )
    assert again.status_code == 422 and "erased" in again.text and erased_row["cpr"] not in again.text


async def test_a_citizen_imported_before_data_keys_has_the_ring_sealed_number_shredded_when_erased(
    service: Runtime, ctx: Context, http: Callable[..., httpx.AsyncClient], callers: Callers
) -> None:
    [row] = import_rows(1)
    [ref] = await register(service.pool, ctx, row)
    await service.pool.execute(  # as imported before migration 0004: the ring alone
        "UPDATE citizens SET cpr_sealed = $2, cpr_shreddable = NULL WHERE citizen_ref = $1",
        ref,
        ctx.cipher.seal(row["cpr"], ref),
    )
    async with service.pool.acquire() as conn:
        assert ctx.cipher.open_stored(await PgBenefits(conn, ctx.data_keys).sealed_cpr(ref), ref) == row["cpr"]

    async with http(callers.operator()) as operator:
        erased = await operator.post("/v1/admin/erasures", json={"cpr": row["cpr"], "reason": REASON})

    assert erased.status_code == 201
    async with service.pool.acquire() as conn:
        with pytest.raises(KeyDestroyed):
            ctx.cipher.open_stored(await PgBenefits(conn, ctx.data_keys).sealed_cpr(ref), ref)
        assert await conn.fetchval("SELECT cpr_sealed FROM citizens WHERE citizen_ref = $1", ref) is None
