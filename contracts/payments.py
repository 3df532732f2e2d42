"""Events of the payment back-office, produced outside Jobbro: how each payment instruction ended.

They travel on `payments.settlements.v1`, keyed by `instruction_id` like the instructions they answer, so a
failure and a later settlement of one instruction stay in order.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from contracts.common import Ore
from contracts.envelope import Event

TOPIC = "payments.settlements.v1"

_INSTRUCTION_ID = "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f70"
_IDEMPOTENCY_KEY = "wage_subsidy:3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90:2026-03"


class SettlementEvent(Event):
    """The back-office's answer to one payment instruction; the instruction's id is the record key."""

    topic: ClassVar[str] = TOPIC
    key_field: ClassVar[str] = "instruction_id"

    instruction_id: UUID = Field(description="The payment instruction answered.", examples=[_INSTRUCTION_ID])
    idempotency_key: str = Field(
        min_length=1, description="The instruction's idempotency key.", examples=[_IDEMPOTENCY_KEY]
    )


class PaymentSettled(SettlementEvent):
    """The money left the account; the instruction is done."""

    type: ClassVar[str] = "dk.jobbro.payments.payment-settled.v1"

    amount_ore: Ore = Field(gt=0, description="Amount paid, in øre.", examples=[882240])
    settled_on: date = Field(description="The day the payment was made.", examples=["2026-04-08"])
    bank_reference: str = Field(
        min_length=1, description="The bank's reference for the transfer.", examples=["NETS-20260408-000123"]
    )


class FailureCode(StrEnum):
    """Why the back-office could not pay."""

    PAYEE_UNKNOWN = "payee_unknown"
    NO_ACCOUNT = "no_account"
    REJECTED_BY_BANK = "rejected_by_bank"
    INVALID_INSTRUCTION = "invalid_instruction"
    OTHER = "other"


class PaymentFailed(SettlementEvent):
    """The back-office could not pay; a retryable failure may still be followed by a settlement."""

    type: ClassVar[str] = "dk.jobbro.payments.payment-failed.v1"

    code: FailureCode = Field(description="Why the payment failed.", examples=["no_account"])
    reason: str = Field(min_length=1, description="The back-office's explanation.", examples=["Payee has no NemKonto"])
    retryable: bool = Field(
        description="True when the back-office will try again by itself; false when Jobbro must act.", examples=[False]
    )


EVENTS: tuple[type[Event], ...] = (PaymentSettled, PaymentFailed)
