"""Settlements and the ledger on real Kafka and PostgreSQL: answers recorded once, failures reissued, totals exact."""

from collections.abc import Callable
from dataclasses import replace
from uuid import uuid4

import httpx

from contracts.benefits import PAYEE_KEYS, PAYMENT_INSTRUCTIONS, PaymentInstructionIssuedV2
from contracts.envelope import encode
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime
from jobbro.testing import produce, publish, read_events, read_topic
from services.benefits import payment_run
from services.benefits.handlers import Context
from services.benefits.rules import Month
from services.benefits.settings import BenefitsSettings
from tests.benefits.events import failed, settled
from tests.benefits.factories import import_rows
from tests.benefits.integration.conftest import eventually, register
from tests.benefits.payees import payee_cprs
from tests.identity import Callers

RATES = [1_000_001, 1_200_002, 1_400_003, 1_600_004, 1_800_005]


async def test_settlements_and_failures_reconcile_the_month_to_the_ore(
    service: Runtime,
    ctx: Context,
    settings: BenefitsSettings,
    kafka: KafkaAccess,
    topic_prefix: str,
    http: Callable[..., httpx.AsyncClient],
    callers: Callers,
) -> None:
    rows = import_rows(len(RATES))
    for row, rate in zip(rows, RATES, strict=True):
        row["monthly_rate_ore"] = rate
    await register(service.pool, ctx, *rows)
    await payment_run.run(service.pool, ctx, Month(2026, 11), batch_size=100, source=settings.source)
    found = await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=len(RATES))
    issued = sorted((e for _, e in found if isinstance(e, PaymentInstructionIssuedV2)), key=lambda e: e.amount_ore)
    paid_twice, paid, retried, refused, unanswered = issued
    client = http(callers.operator())

    _, record = encode(
        settled(paid_twice.instruction_id, paid_twice.idempotency_key, paid_twice.amount_ore), source="/bo"
    )
    redelivered = replace(record, topic=topic_prefix + record.topic)
    await produce(kafka, redelivered, redelivered)
    await publish(
        kafka,
        topic_prefix,
        settled(paid_twice.instruction_id, paid_twice.idempotency_key, paid_twice.amount_ore),  # a new event id
        settled(paid.instruction_id, paid.idempotency_key, paid.amount_ore),
        failed(retried.instruction_id, retried.idempotency_key, retryable=True),
        settled(retried.instruction_id, retried.idempotency_key, retried.amount_ore),
        failed(refused.instruction_id, refused.idempotency_key, retryable=False),
    )
    await eventually(
        lambda: service.pool.fetchval(
            """SELECT count(*) = 4 FROM payment_instructions
               WHERE state IN ('settled', 'failed') AND answered_at IS NOT NULL"""
        )
    )

    async with client:
        reissued = await client.post(f"/v1/admin/payment-instructions/{refused.instruction_id}/reissue")
        again = await client.post(f"/v1/admin/payment-instructions/{refused.instruction_id}/reissue")
        unknown = await client.post(f"/v1/admin/payment-instructions/{uuid4()}/reissue")
        found = await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=len(RATES) + 1)
        [replacement] = [
            e for _, e in found if isinstance(e, PaymentInstructionIssuedV2) and e.idempotency_key.endswith("-1")
        ]
        await publish(
            kafka,
            topic_prefix,
            settled(replacement.instruction_id, replacement.idempotency_key, replacement.amount_ore),
        )
        await eventually(
            lambda: service.pool.fetchval(
                "SELECT state = 'settled' FROM payment_instructions WHERE instruction_id = $1",
                replacement.instruction_id,
            )
        )
        report = (await client.get("/v1/ledger/reconciliation/2026-11")).json()
        empty = (await client.get("/v1/ledger/reconciliation/2026-12")).json()
        invalid = await client.get("/v1/ledger/reconciliation/2026-13")

    assert reissued.status_code == 201
    assert reissued.json()["idempotency_key"] == f"{refused.idempotency_key}:reissue-1"
    assert (replacement.idempotency_key, replacement.amount_ore) == (reissued.json()["idempotency_key"], RATES[3])
    keys = [e for _, e in await read_events(kafka, topic_prefix + PAYEE_KEYS, expect=len(RATES))]
    cprs = payee_cprs([*keys, replacement, refused], settings.payee_key_keks)
    assert (
        replacement.payee_ref == refused.payee_ref and cprs[replacement.instruction_id] == cprs[refused.instruction_id]
    )
    assert len(keys) == len(RATES)  # the reissue made no second key
    assert (again.status_code, unknown.status_code, invalid.status_code) == (409, 404, 422)
    issued_ore = sum(RATES) + RATES[3]
    settled_ore = RATES[0] + RATES[1] + RATES[2] + RATES[3]
    expected = {
        "instructions": 6,
        "issued_ore": issued_ore,
        "settled_ore": settled_ore,
        "failed_ore": RATES[3],
        "outstanding_ore": RATES[4],
    }
    assert report["purposes"] == [{"purpose": "benefit", **expected}]
    assert report["total"] == expected
    assert expected["issued_ore"] == expected["settled_ore"] + expected["failed_ore"] + expected["outstanding_ore"]
    assert unanswered.amount_ore == RATES[4]
    assert (empty["purposes"], empty["total"]["issued_ore"]) == ([], 0)
    answered = await service.pool.fetch(
        "SELECT state, settled_ore, bank_reference FROM payment_instructions WHERE instruction_id = $1",
        paid_twice.instruction_id,
    )
    assert [tuple(row) for row in answered] == [("settled", RATES[0], f"NETS-{paid_twice.instruction_id.hex[:8]}")]


async def test_a_forged_settlement_is_dead_lettered_and_the_instruction_stays_outstanding(
    service: Runtime, ctx: Context, settings: BenefitsSettings, kafka: KafkaAccess, topic_prefix: str
) -> None:
    await register(service.pool, ctx, *import_rows(1))
    await payment_run.run(service.pool, ctx, Month(2026, 11), batch_size=100, source=settings.source)
    [(_, instruction)] = await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=1)
    assert isinstance(instruction, PaymentInstructionIssuedV2)
    key, amount = instruction.idempotency_key, instruction.amount_ore

    await publish(
        kafka,
        topic_prefix,
        settled(instruction.instruction_id, key, 99_999_999),  # another amount
        settled(instruction.instruction_id, "benefit:someone-else:2026-11", amount),  # another payee's key
    )
    dead = await read_topic(kafka, topic_prefix + "payments.settlements.v1.dlq", expect=2)
    state = await service.pool.fetchval(
        "SELECT state FROM payment_instructions WHERE instruction_id = $1", instruction.instruction_id
    )
    await publish(kafka, topic_prefix, settled(instruction.instruction_id, key, amount))
    await eventually(
        lambda: service.pool.fetchval(
            "SELECT state = 'settled' AND settled_ore = $2 FROM payment_instructions WHERE instruction_id = $1",
            instruction.instruction_id,
            amount,
        )
    )

    assert state == "issued"
    reasons = [dict(record.headers) for record in dead]
    assert [r["dlq_error_class"] for r in reasons] == [b"SettlementMismatch"] * 2
    assert b"settled 99999999" in reasons[0]["dlq_error_message"]
    assert b"idempotency key" in reasons[1]["dlq_error_message"]
