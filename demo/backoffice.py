"""A stand-in for the payment back-office: pays each payment instruction once and answers with a settlement.

The real back-office is outside Jobbro; this one is built on Jobbro's kit only because it must be as
effectively-once as the real one promises to be: it never pays an idempotency key twice, and answers a repeated
instruction with the outcome it already gave. Payees listed in `no_account` have no NemKonto: their payments fail.
It has no HTTP routes but the kit's health routes: it is reached only through Kafka.
"""

from datetime import date
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from contracts.benefits import PAYMENT_INSTRUCTIONS, PaymentInstructionIssued
from contracts.catalog import EVENT_TYPES
from contracts.envelope import Metadata
from contracts.payments import FailureCode, PaymentFailed, PaymentSettled
from jobbro.http_limits import serve
from jobbro.runtime import Runtime, create_http_app
from jobbro.settings import ServiceSettings
from jobbro.uow import UnitOfWork

SQL = Path(__file__).parent / "sql"


class BackofficeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BACKOFFICE_", frozen=True)

    service: str = "backoffice"
    no_account: frozenset[str] = Field(
        frozenset(), description="CPR or CVR numbers without a NemKonto: their payments fail (not retryable)."
    )


def create_runtime(settings: BackofficeSettings) -> Runtime:
    runtime = Runtime(settings, SQL)

    async def on_instruction(event: PaymentInstructionIssued, meta: Metadata, uow: UnitOfWork, _ctx: None) -> None:
        payee = event.payee_cpr or event.payee_cvr or ""
        outcome = "failed" if payee in settings.no_account else "settled"
        first = await uow.conn.fetchrow(
            """INSERT INTO payments (idempotency_key, instruction_id, amount_ore, outcome)
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
               RETURNING instruction_id, outcome, decided_at""",
            event.idempotency_key,
            event.instruction_id,
            event.amount_ore,
            outcome,
        )
        if first["instruction_id"] != event.instruction_id:
            uow.publish(
                PaymentFailed(
                    instruction_id=event.instruction_id,
                    idempotency_key=event.idempotency_key,
                    code=FailureCode.INVALID_INSTRUCTION,
                    reason="This idempotency key was already paid under another instruction.",
                    retryable=False,
                )
            )
        elif first["outcome"] == "failed":
            uow.publish(
                PaymentFailed(
                    instruction_id=event.instruction_id,
                    idempotency_key=event.idempotency_key,
                    code=FailureCode.NO_ACCOUNT,
                    reason="Payee has no NemKonto.",
                    retryable=False,
                )
            )
        else:
            settled_on: date = first["decided_at"].date()
            uow.publish(
                PaymentSettled(
                    instruction_id=event.instruction_id,
                    idempotency_key=event.idempotency_key,
                    amount_ore=event.amount_ore,
                    settled_on=settled_on,
                    bank_reference=f"DEMO-{settled_on:%Y%m%d}-{str(event.instruction_id)[:8]}",
                )
            )

    runtime.consume(
        PAYMENT_INSTRUCTIONS,
        group="payment-back-office.payment-instructions",
        catalog=EVENT_TYPES,
        handlers={PaymentInstructionIssued: on_instruction},
    )
    return runtime


def main() -> None:
    settings = BackofficeSettings()
    serve(create_http_app(create_runtime(settings)), settings)


if __name__ == "__main__":
    main()
