"""Subsidy and back-office events as their producers would publish them, for feeding the benefits service."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from pydantic import SecretStr

from contracts.common import HoursStep, Period, Scheme
from contracts.payments import FailureCode, PaymentFailed, PaymentSettled
from contracts.subsidy import (
    ApplicationSubmitted,
    ApplicationSubmittedV2,
    EndKind,
    EndReason,
    PlacementConfirmed,
    PlacementEnded,
    PlacementExtended,
    PlacementHoursChanged,
    WageReportSubmitted,
)
from jobbro.pseudonym import citizen_ref
from jobbro.shredding import KeyWrap

PSEUDONYM_KEY = "development-only-pseudonym-key"
DATA_KEYS = KeyWrap(SecretStr("test:a-key-encryption-key-for-benefits-tests"), setting="test")
"""Wraps the data keys a test makes outside the service."""
CVR = "12345678"


def application_submitted(cpr: str, scheme: Scheme, start: date, end: date) -> ApplicationSubmittedV2:
    """As subsidy publishes it: the citizen by the reference of `cpr` only."""
    return ApplicationSubmittedV2(
        application_id=uuid4(),
        scheme=scheme,
        citizen_ref=citizen_ref(cpr, PSEUDONYM_KEY),
        employer_cvr=CVR,
        production_unit="1012345678",
        employer_name="Hansen VVS ApS",
        position_title="VVS-assistent",
        employment_goal="Job som VVS-assistent",
        period=Period(start=start, end=end),
        weekly_hours=(HoursStep(from_date=start, hours_per_week=Decimal(37)),),
        ordinary_employees_fte=Decimal(12),
        signed_at=datetime(2026, 2, 10, 9, 15, tzinfo=UTC),
    )


def application_submitted_v1(cpr: str, scheme: Scheme, start: date, end: date) -> ApplicationSubmitted:
    """As subsidy published it before v2, with the CPR number; such records stay on the topic until retention."""
    return ApplicationSubmitted(**application_submitted(cpr, scheme, start, end).model_dump(), citizen_cpr=cpr)


def placement_confirmed(ref: str, scheme: Scheme, start: date, end: date, hours: str = "37") -> PlacementConfirmed:
    return PlacementConfirmed(
        application_id=uuid4(),
        citizen_ref=ref,
        scheme=scheme,
        employer_cvr=CVR,
        production_unit="1012345678",
        employer_name="Hansen VVS ApS",
        employment_goal="Job som VVS-assistent",
        period=Period(start=start, end=end),
        weekly_hours=(HoursStep(from_date=start, hours_per_week=Decimal(hours)),),
        subsidy_hourly_rate_ore=None if scheme is Scheme.INTERNSHIP else 8616,
    )


def extended(confirmed: PlacementConfirmed, new_end: date) -> PlacementExtended:
    return PlacementExtended(
        application_id=confirmed.application_id,
        citizen_ref=confirmed.citizen_ref,
        previous_end=confirmed.period.end,
        new_end=new_end,
    )


def hours_changed(confirmed: PlacementConfirmed, effective_from: date, hours: str) -> PlacementHoursChanged:
    return PlacementHoursChanged(
        application_id=confirmed.application_id,
        citizen_ref=confirmed.citizen_ref,
        effective_from=effective_from,
        weekly_hours=(HoursStep(from_date=effective_from, hours_per_week=Decimal(hours)),),
    )


def ended_early(confirmed: PlacementConfirmed, last_day: date) -> PlacementEnded:
    wage_subsidy = confirmed.scheme is not Scheme.INTERNSHIP
    return PlacementEnded(
        application_id=confirmed.application_id,
        citizen_ref=confirmed.citizen_ref,
        last_day=last_day,
        kind=EndKind.EARLY,
        reason=EndReason.EMPLOYER_ENDED,
        subsidy_last_12_months_ore=0 if wage_subsidy else None,
        wage_costs_last_12_months_ore=0 if wage_subsidy else None,
    )


def wage_report(
    confirmed: PlacementConfirmed, start: date, end: date, hours: str, wage_costs_ore: int = 3_000_000
) -> WageReportSubmitted:
    return WageReportSubmitted(
        application_id=confirmed.application_id,
        report_id=uuid4(),
        employer_cvr=CVR,
        month=Period(start=start, end=end),
        paid_hours=Decimal(hours),
        wage_costs_ore=wage_costs_ore,
        sickness_refunds_ore=0,
    )


def settled(instruction_id: UUID, key: str, amount_ore: int) -> PaymentSettled:
    return PaymentSettled(
        instruction_id=instruction_id,
        idempotency_key=key,
        amount_ore=amount_ore,
        settled_on=date(2026, 11, 30),
        bank_reference=f"NETS-{instruction_id.hex[:8]}",
    )


def failed(instruction_id: UUID, key: str, *, retryable: bool) -> PaymentFailed:
    return PaymentFailed(
        instruction_id=instruction_id,
        idempotency_key=key,
        code=FailureCode.NO_ACCOUNT,
        reason="Payee has no NemKonto",
        retryable=retryable,
    )
