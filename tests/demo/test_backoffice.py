import asyncio
from uuid import uuid4

from contracts.benefits import (
    PayeeKeyDestroyed,
    PayeeKeyIssued,
    PayeeKind,
    PaymentInstructionIssued,
    PaymentInstructionIssuedV2,
    PaymentPurpose,
)
from contracts.payments import FailureCode, PaymentFailed, PaymentSettled
from demo.backoffice import BackofficeSettings, create_runtime
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.shredding import KeyWrap
from jobbro.testing import publish, read_events, running
from services.benefits.payees import PayeeKeys, payee_key_sealer


def _instruction(key: str, cvr: str = "12345678", amount: int = 882240) -> PaymentInstructionIssued:
    return PaymentInstructionIssued(
        instruction_id=uuid4(),
        idempotency_key=key,
        payee_kind=PayeeKind.EMPLOYER,
        payee_cpr=None,
        payee_cvr=cvr,
        amount_ore=amount,
        period={"start": "2026-03-01", "end": "2026-03-31"},
        purpose=PaymentPurpose.WAGE_SUBSIDY,
        application_id=uuid4(),
        due_on="2026-04-10",
    )


async def test_pays_each_key_once_and_fails_payees_without_an_account(
    database: str, kafka: KafkaAccess, topic_prefix: str
) -> None:
    settings = BackofficeSettings(
        pg_dsn=database, **kafka.settings(), topic_prefix=topic_prefix, no_account={"87654321"}
    )
    paid = _instruction("wage_subsidy:a:2026-03")
    same_key_other_instruction = paid.model_copy(update={"instruction_id": uuid4()})
    no_account = _instruction("wage_subsidy:b:2026-03", cvr="87654321")
    async with running(create_runtime(settings)) as runtime:
        await publish(kafka, topic_prefix, paid, paid, no_account)
        await read_events(kafka, topic_prefix + "payments.settlements.v1", expect=3)
        # then another instruction under a key already paid (instructions are keyed by id: only time orders them)
        await publish(kafka, topic_prefix, same_key_other_instruction)
        answers = [e for _, e in await read_events(kafka, topic_prefix + "payments.settlements.v1", expect=4)]
        ledger = await runtime.pool.fetch("SELECT idempotency_key, outcome FROM payments ORDER BY idempotency_key")

    by_instruction: dict = {}
    for answer in answers:
        by_instruction.setdefault(answer.instruction_id, []).append(answer)
    assert [type(a) for a in by_instruction[paid.instruction_id]] == [PaymentSettled, PaymentSettled]
    assert by_instruction[paid.instruction_id][0].amount_ore == paid.amount_ore
    [conflict] = by_instruction[same_key_other_instruction.instruction_id]
    assert isinstance(conflict, PaymentFailed) and conflict.code is FailureCode.INVALID_INSTRUCTION
    [failed] = by_instruction[no_account.instruction_id]
    assert isinstance(failed, PaymentFailed) and failed.code is FailureCode.NO_ACCOUNT and not failed.retryable
    assert [tuple(r) for r in ledger] == [("wage_subsidy:a:2026-03", "settled"), ("wage_subsidy:b:2026-03", "failed")]


def _to_citizen(key: str, ref: str, sealed_cpr: str) -> PaymentInstructionIssuedV2:
    employer = _instruction(key)
    fields = employer.model_dump(exclude={"payee_cpr"})
    return PaymentInstructionIssuedV2(
        **fields
        | {"payee_kind": PayeeKind.CITIZEN, "payee_cvr": None, "payee_ref": ref, "payee_cpr_sealed": sealed_cpr}
    )


async def test_a_citizen_is_paid_once_their_payee_key_arrives_and_not_after_its_tombstone(
    database: str, infra: Infrastructure, kafka: KafkaAccess, topic_prefix: str
) -> None:
    settings = BackofficeSettings(
        pg_dsn=database,
        **infra.kafka_as("payment-back-office").settings(),
        topic_prefix=topic_prefix,
        no_account={"0101900000"},
        retry_base_seconds=0.05,
    )
    payees = PayeeKeys(
        KeyWrap(settings.payee_key_keks, setting="test"), payee_key_sealer(settings.payee_key_keks, setting="test")
    )
    paid, broke = payees.new("c-paid"), payees.new("c-broke")
    early = _to_citizen("benefit:c-paid:2026-11", "c-paid", payees.sealed_cpr(paid.key, "c-paid", "0101901234"))
    no_account = _to_citizen(
        "benefit:c-broke:2026-11", "c-broke", payees.sealed_cpr(broke.key, "c-broke", "0101900000")
    )
    late = _to_citizen("benefit:c-paid:2026-12", "c-paid", early.payee_cpr_sealed or "")
    settlements = topic_prefix + "payments.settlements.v1"
    async with running(create_runtime(settings)) as runtime:
        await publish(kafka, topic_prefix, early, no_account)  # before their keys, on another topic
        await asyncio.sleep(1.0)
        waiting = await runtime.pool.fetchval("SELECT count(*) FROM payments")
        await publish(kafka, topic_prefix, PayeeKeyIssued(citizen_ref="c-paid", wrapped_key=paid.for_backoffice))
        await publish(kafka, topic_prefix, PayeeKeyIssued(citizen_ref="c-broke", wrapped_key=broke.for_backoffice))
        answered = [e for _, e in await read_events(kafka, settlements, expect=2)]
        await publish(kafka, topic_prefix, PayeeKeyDestroyed(citizen_ref="c-paid"))
        await _until(
            lambda: runtime.pool.fetchval("SELECT wrapped_key IS NULL FROM payee_keys WHERE citizen_ref = 'c-paid'")
        )
        await publish(kafka, topic_prefix, late)
        answers = [e for _, e in await read_events(kafka, settlements, expect=3)]
        dead_letters = await read_events(
            kafka, topic_prefix + "benefits.payment-instructions.v1.dlq", expect=0, timeout=1
        )

    assert waiting == 0 and dead_letters == []
    by_instruction = {answer.instruction_id: answer for answer in answers}
    assert isinstance(by_instruction[early.instruction_id], PaymentSettled)  # its CPR number opened
    failed = by_instruction[no_account.instruction_id]
    assert isinstance(failed, PaymentFailed) and failed.code is FailureCode.NO_ACCOUNT  # the number opened, unpaid
    erased = by_instruction[late.instruction_id]
    assert isinstance(erased, PaymentFailed) and erased.code is FailureCode.PAYEE_UNKNOWN and not erased.retryable
    assert len(answered) == 2


async def _until(check, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the timeout"
        await asyncio.sleep(0.1)
