from uuid import uuid4

from contracts.benefits import PayeeKind, PaymentInstructionIssued, PaymentPurpose
from contracts.payments import FailureCode, PaymentFailed, PaymentSettled
from demo.backoffice import BackofficeSettings, create_runtime
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import publish, read_events, running


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
