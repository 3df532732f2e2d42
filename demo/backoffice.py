"""A stand-in for the payment back-office: pays each payment instruction once and answers with a settlement.

The real back-office is outside Jobbro; this one is built on Jobbro's kit only because it must be as
effectively-once as the real one promises to be: it never pays an idempotency key twice, and answers a repeated
instruction with the outcome it already gave. Payees listed in `no_account` have no NemKonto: their payments fail.
It has no HTTP routes but the kit's health routes: it is reached only through Kafka.

A citizen payee's CPR number arrives sealed (`payment-instruction-issued.v2`) under the citizen's payee key, which
comes on another topic (`benefits.payee-keys.v1`) and may come later: an instruction whose key has not arrived yet
waits (retried, then redelivered), and is never dead-lettered for it. The key is kept as received (wrapped under
`BACKOFFICE_PAYEE_KEY_KEKS`) and forgotten on its tombstone; an instruction for a citizen whose key was destroyed
fails (`payee_unknown`), since nobody can tell whom to pay any more.
"""

from datetime import date
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from contracts.benefits import (
    PAYEE_KEYS,
    PAYMENT_INSTRUCTIONS,
    PayeeKeyDestroyed,
    PayeeKeyIssued,
    PaymentInstructionIssued,
    PaymentInstructionIssuedV2,
)
from contracts.catalog import EVENT_TYPES
from contracts.envelope import Metadata
from contracts.payments import FailureCode, PaymentFailed, PaymentSettled
from jobbro.http_limits import serve
from jobbro.runtime import Runtime, create_http_app
from jobbro.settings import DEVELOPMENT_PREFIX, ServiceSettings
from jobbro.uow import UnitOfWork
from services.benefits.payees import decoded, opened_cpr, payee_key_sealer

SQL = Path(__file__).parent / "sql"


class BackofficeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BACKOFFICE_", frozen=True)

    service: str = "backoffice"
    no_account: frozenset[str] = Field(
        frozenset(), description="CPR or CVR numbers without a NemKonto: their payments fail (not retryable)."
    )
    payee_key_keks: SecretStr = Field(
        SecretStr(DEVELOPMENT_PREFIX + "payee:" + DEVELOPMENT_PREFIX + "payee-key-encryption-key"),
        description="`kid:secret` key(s) shared with benefits only (its BENEFITS_PAYEE_KEY_KEKS): each listed one"
        " unwraps the payee keys of benefits.payee-keys.v1.",
    )


class PayeeKeyNotYetReceived(TimeoutError):
    """An instruction's payee key has not arrived (it travels on another topic): transient, so the instruction is
    tried again and then redelivered until it has, never dead-lettered for it."""


def create_runtime(settings: BackofficeSettings) -> Runtime:
    runtime = Runtime(settings, SQL)
    payee_keys = payee_key_sealer(settings.payee_key_keks, setting="BACKOFFICE_PAYEE_KEY_KEKS")

    async def on_instruction(event: PaymentInstructionIssued, meta: Metadata, uow: UnitOfWork, _ctx: None) -> None:
        """v1, no longer produced: the CPR number in clear."""
        await _pay(event, event.payee_cpr or event.payee_cvr, settings, uow)

    async def on_instruction_v2(event: PaymentInstructionIssuedV2, meta: Metadata, uow: UnitOfWork, _ctx: None) -> None:
        if event.payee_ref is None or event.payee_cpr_sealed is None:
            await _pay(event, event.payee_cvr, settings, uow)
            return
        row = await uow.conn.fetchrow("SELECT wrapped_key FROM payee_keys WHERE citizen_ref = $1", event.payee_ref)
        if row is None:
            raise PayeeKeyNotYetReceived(f"no payee key yet for instruction {event.instruction_id}")
        if row["wrapped_key"] is None:
            await _pay(event, None, settings, uow)
            return
        key = decoded(payee_keys.open(row["wrapped_key"]))
        await _pay(event, opened_cpr(key, event.payee_ref, event.payee_cpr_sealed), settings, uow)

    async def on_payee_key(event: PayeeKeyIssued, meta: Metadata, uow: UnitOfWork, _ctx: None) -> None:
        """Keep the key as received; a destroyed one is never taken back."""
        await uow.conn.execute(
            """INSERT INTO payee_keys (citizen_ref, wrapped_key) VALUES ($1, $2)
               ON CONFLICT (citizen_ref) DO UPDATE SET wrapped_key = EXCLUDED.wrapped_key
               WHERE payee_keys.destroyed_at IS NULL""",
            event.citizen_ref,
            event.wrapped_key,
        )

    async def on_payee_key_destroyed(event: PayeeKeyDestroyed, meta: Metadata, uow: UnitOfWork, _ctx: None) -> None:
        """Forget the key; remember that it was destroyed, so the citizen's unpaid instructions fail, not wait."""
        await uow.conn.execute(
            """INSERT INTO payee_keys (citizen_ref, wrapped_key, destroyed_at) VALUES ($1, NULL, now())
               ON CONFLICT (citizen_ref) DO UPDATE SET wrapped_key = NULL, destroyed_at = now()""",
            event.citizen_ref,
        )

    runtime.consume(
        PAYMENT_INSTRUCTIONS,
        group="payment-back-office.payment-instructions",
        catalog=EVENT_TYPES,
        handlers={PaymentInstructionIssued: on_instruction, PaymentInstructionIssuedV2: on_instruction_v2},
    )
    runtime.consume(
        PAYEE_KEYS,
        group="payment-back-office.payee-keys",
        catalog=EVENT_TYPES,
        handlers={PayeeKeyIssued: on_payee_key, PayeeKeyDestroyed: on_payee_key_destroyed},
    )
    return runtime


async def _pay(
    event: PaymentInstructionIssued | PaymentInstructionIssuedV2,
    payee: str | None,
    settings: BackofficeSettings,
    uow: UnitOfWork,
) -> None:
    """Pay the idempotency key once and answer; `payee` None is a citizen whose payee key was destroyed."""
    outcome = "failed" if payee is None or payee in settings.no_account else "settled"
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
        erased = payee is None
        uow.publish(
            PaymentFailed(
                instruction_id=event.instruction_id,
                idempotency_key=event.idempotency_key,
                code=FailureCode.PAYEE_UNKNOWN if erased else FailureCode.NO_ACCOUNT,
                reason="The payee was erased: their payee key is destroyed." if erased else "Payee has no NemKonto.",
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


def main() -> None:
    settings = BackofficeSettings()
    serve(create_http_app(create_runtime(settings)), settings)


if __name__ == "__main__":
    main()
