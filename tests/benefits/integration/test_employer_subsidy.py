"""The employer's subsidy on real Kafka and PostgreSQL: a report pays once, a correction only its difference, and
every payment explains itself on its event and through the ledger's API."""

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import uuid4

import httpx

from contracts import subsidy
from contracts.benefits import PAYMENT_INSTRUCTIONS, PaymentInstructionIssuedV2
from contracts.common import Scheme
from contracts.envelope import encode
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime
from jobbro.testing import produce, publish, read_events, read_topic
from services.benefits import store
from services.benefits.rules import Month
from tests.benefits.events import CVR, failed, placement_confirmed, wage_report
from tests.benefits.integration.conftest import eventually
from tests.identity import Callers


async def test_the_same_report_pays_once_and_corrections_pay_or_claw_back_only_the_difference(
    service: Runtime, kafka: KafkaAccess, topic_prefix: str
) -> None:
    placement = placement_confirmed(
        "c-0123456789abcdef", Scheme.WAGE_SUBSIDY_PRIVATE, date(2023, 3, 1), date(2023, 8, 31)
    )
    march = wage_report(placement, date(2023, 3, 1), date(2023, 3, 31), "160")
    _, march_record = encode(march, source="/jobbro/subsidy")
    resent_march = replace(
        march_record, headers={**march_record.headers, "ce_id": "0e0e0e0e-0000-4000-8000-000000000001"}
    )
    raised = wage_report(placement, date(2023, 3, 1), date(2023, 3, 31), "162")
    lowered = wage_report(placement, date(2023, 3, 1), date(2023, 3, 31), "150")
    april = wage_report(placement, date(2023, 4, 1), date(2023, 4, 30), "150")

    await publish(kafka, topic_prefix, placement)
    # the same record twice (a redelivery), and the same report again as a new event (a producer's retry)
    prefixed = [replace(r, topic=topic_prefix + r.topic) for r in (march_record, march_record, resent_march)]
    await produce(kafka, *prefixed)
    await publish(kafka, topic_prefix, raised, lowered, april)

    found = await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=3)
    # one instruction per key (the topic's partitions interleave when read), so in the order of their keys
    issued = sorted((e for _, e in found if isinstance(e, PaymentInstructionIssuedV2)), key=lambda e: e.idempotency_key)
    application = placement.application_id
    assert [(e.idempotency_key, e.amount_ore) for e in issued] == [
        (f"wage_subsidy:{application}:2023-03", 1_378_560),  # 86.16 DKK × 160 hours
        (f"wage_subsidy:{application}:2023-03:2", 17_232),  # 2 more hours
        # the third March report lowers the month to 150 hours: 103_392 is owed back, offset in April
        (f"wage_subsidy:{application}:2023-04", 1_292_400 - 103_392),
    ]
    assert {(e.payee_kind, e.payee_cvr, e.payee_ref, e.payee_cpr_sealed, e.application_id) for e in issued} == {
        ("employer", CVR, None, None, application)
    }
    assert (issued[0].period.start, issued[0].period.end, issued[0].due_on) == (
        date(2023, 3, 1),
        date(2023, 3, 31),
        date(2023, 4, 10),
    )
    assert max(Counter(e.idempotency_key for e in issued).values()) == 1

    async def reports() -> list[tuple[str, int, int]]:
        rows = await service.pool.fetch("SELECT month, revision, payable_ore FROM wage_reports ORDER BY received_at")
        return [(f"{r['month']:%Y-%m}", r["revision"], r["payable_ore"]) for r in rows] if len(rows) == 4 else []

    assert await eventually(reports) == [
        ("2023-03", 1, 1_378_560),
        ("2023-03", 2, 1_395_792),
        ("2023-03", 3, 1_292_400),
        ("2023-04", 1, 1_292_400),
    ]
    assert await service.pool.fetchval("SELECT recoverable_ore FROM placements") == 0
    async with service.pool.acquire() as conn:
        [march_totals] = await store.reconciliation(conn, Month(2023, 3))
    assert (march_totals.purpose, march_totals.instructions, march_totals.issued_ore) == (
        "wage_subsidy",
        2,
        1_378_560 + 17_232,
    )


async def test_a_wage_report_for_a_placement_never_confirmed_is_dead_lettered(
    service: Runtime, kafka: KafkaAccess, topic_prefix: str
) -> None:
    never_confirmed = placement_confirmed(
        "c-0123456789abcdef", Scheme.WAGE_SUBSIDY_PUBLIC, date(2023, 3, 1), date(2023, 8, 31)
    )

    await publish(kafka, topic_prefix, wage_report(never_confirmed, date(2023, 3, 1), date(2023, 3, 31), "10"))

    [dead] = await read_topic(kafka, topic_prefix + subsidy.TOPIC + ".dlq", expect=1)
    headers = {name: value.decode() for name, value in dead.headers}
    assert (headers["dlq_consumer_group"], headers["dlq_error_class"]) == (
        topic_prefix + "benefits.placements",
        "UnknownPlacement",
    )


async def test_a_wage_subsidy_payment_explains_itself_on_its_event_and_through_the_ledgers_api(
    service: Runtime,
    kafka: KafkaAccess,
    topic_prefix: str,
    http: Callable[..., httpx.AsyncClient],
    callers: Callers,
) -> None:
    placement = placement_confirmed(
        "c-0123456789abcdef", Scheme.WAGE_SUBSIDY_PRIVATE, date(2023, 3, 1), date(2023, 8, 31)
    )
    march = wage_report(placement, date(2023, 3, 1), date(2023, 3, 31), "160")
    raised = wage_report(placement, date(2023, 3, 1), date(2023, 3, 31), "170")  # more than 37 h × 31 days / 7
    await publish(kafka, topic_prefix, placement, march, raised)
    found = await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=2)
    first, correction = sorted(
        (e for _, e in found if isinstance(e, PaymentInstructionIssuedV2)), key=lambda e: e.idempotency_key
    )
    application = placement.application_id

    # the correction, step by step: 163.85 subsidised hours (not the 170 paid) at 86.16 DKK, less what March had
    calculation = correction.calculation
    assert calculation is not None and calculation.report_id == raised.report_id
    assert (calculation.revision, calculation.rate_category, calculation.hourly_rate_ore) == (2, "private", 8616)
    assert (calculation.paid_hours, calculation.hours_limit, calculation.subsidised_hours) == (
        Decimal("170.00"),
        Decimal("163.85"),
        Decimal("163.85"),
    )
    assert (calculation.gross_ore, calculation.payable_ore, calculation.paid_before_ore) == (
        1_411_732,  # 86.16 × 163.85 = 14 117.316 DKK, half up to whole øre
        1_411_732,
        1_378_560,  # 86.16 × 160
    )
    assert correction.amount_ore == 1_411_732 - 1_378_560
    assert calculation.rule_set_versions == ("subsidy-rates-2023.1", "state-aid-2018.1")
    assert calculation.arithmetic.endswith(f"= {correction.amount_ore} øre to pay")
    assert first.calculation is not None and first.calculation.report_id == march.report_id

    await publish(kafka, topic_prefix, failed(correction.instruction_id, correction.idempotency_key, retryable=False))
    await eventually(
        lambda: service.pool.fetchval(
            "SELECT state = 'failed' FROM payment_instructions WHERE instruction_id = $1", correction.instruction_id
        )
    )
    async with http(callers.operator()) as operator:
        reissued = await operator.post(f"/v1/admin/payment-instructions/{correction.instruction_id}/reissue")
    replacement_id = reissued.json()["instruction_id"]
    async with http(callers.auditor()) as auditor:
        shown = await auditor.get(f"/v1/ledger/payment-instructions/{correction.instruction_id}")
        replacement = await auditor.get(f"/v1/ledger/payment-instructions/{replacement_id}")
        reports = await auditor.get(f"/v1/ledger/placements/{application}/wage-reports")
        unknown = await auditor.get(f"/v1/ledger/placements/{uuid4()}/wage-reports")
        accesses = (await auditor.get("/v1/audit/access")).json()["accesses"]
    resent = [
        e
        for _, e in await read_events(kafka, topic_prefix + PAYMENT_INSTRUCTIONS, expect=3)
        if isinstance(e, PaymentInstructionIssuedV2) and str(e.instruction_id) == replacement_id
    ]

    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["state"], body["amount_ore"], body["month"], body["payee_cvr"]) == (
        "reissued",
        correction.amount_ore,
        "2023-03",
        CVR,
    )
    assert body["period"] == {"start": "2023-03-01", "end": "2023-03-31"}
    assert body["calculation"] == calculation.model_dump(mode="json")
    assert replacement.json()["calculation"] == body["calculation"]
    assert replacement.json()["replaces"] == str(correction.instruction_id)
    assert [e.calculation for e in resent] == [calculation]
    assert reports.status_code == 200, reports.text
    assert [(r["month"], r["revision"], r["paid_hours"], r["payable_ore"]) for r in reports.json()] == [
        ("2023-03", 1, "160.00", 1_378_560),
        ("2023-03", 2, "170.00", 1_411_732),
    ]
    assert reports.json()[0]["instruction_ids"] == [str(first.instruction_id)]
    assert reports.json()[1]["instruction_ids"] == [str(correction.instruction_id), replacement_id]
    assert reports.json()[1]["calculation"]["hourly_rate"] == "86.16"
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_placement"
    ledger_reads = [
        (a["object_kind"], a["object_ref"], a["outcome"]) for a in reversed(accesses) if a["action"] == "read"
    ]
    assert ledger_reads[:4] == [
        ("payment_instruction", str(correction.instruction_id), "granted"),
        ("payment_instruction", replacement_id, "granted"),
        ("wage_reports", str(application), "granted"),
        ("wage_reports", ledger_reads[3][1], "not_found"),
    ]
