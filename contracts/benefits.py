"""Events of the benefits service: who the citizen is in benefit terms, how placements change their benefit,
and the payments that follow.

Assessments and adjustments are keyed by `citizen_ref`, so one citizen's benefit history stays in order;
payment instructions are keyed by `instruction_id`, like the back-office's answers to them; payee keys by
`citizen_ref`, on a compacted topic that forgets an erased citizen's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BeforeValidator, Field, model_validator

from contracts.common import (
    CitizenRef,
    Cpr,
    Cvr,
    Hours,
    OpenPeriod,
    Ore,
    Period,
    PersonalData,
    RuleResult,
    Scheme,
    Value,
    personal,
)
from contracts.envelope import Event

ASSESSMENTS = "benefits.assessments.v1"
ADJUSTMENTS = "benefits.adjustments.v1"
PAYMENT_INSTRUCTIONS = "benefits.payment-instructions.v1"
PAYEE_KEYS = "benefits.payee-keys.v1"

_APPLICATION_ID = "3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90"
_INSTRUCTION_ID = "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f70"


class TargetGroup(StrEnum):
    """The citizen's target group (målgruppe); the rules' durations and conditions depend on it.

    A group whose citizens receive one benefit is spelled as that benefit. `jobafklaring` and `ressourceforloeb`
    are deprecated spellings of `jobafklaringsydelse` and `ressourceforloebsydelse`: events of catalog 1.0 carry
    them, so readers read them as the current spelling; producers never write them.
    """

    DAGPENGE = "dagpenge"
    KONTANTHJAELP_JOB_READY = "kontanthjaelp_job_ready"
    KONTANTHJAELP_ACTIVITY_READY = "kontanthjaelp_activity_ready"
    UDDANNELSESHJAELP_EDUCATION_READY = "uddannelseshjaelp_education_ready"
    UDDANNELSESHJAELP_ACTIVITY_READY = "uddannelseshjaelp_activity_ready"
    SYGEDAGPENGE = "sygedagpenge"
    JOBAFKLARINGSYDELSE = "jobafklaringsydelse"
    RESSOURCEFORLOEBSYDELSE = "ressourceforloebsydelse"
    JOBAFKLARING = "jobafklaring"
    """Deprecated spelling of `jobafklaringsydelse`: read as it, never written."""
    RESSOURCEFORLOEB = "ressourceforloeb"
    """Deprecated spelling of `ressourceforloebsydelse`: read as it, never written."""
    FLEXJOB_REFERRED = "flexjob_referred"
    FOERTIDSPENSION = "foertidspension"
    SELF_SUPPORTING_JOB_READY = "self_supporting_job_ready"
    SELF_SUPPORTING_ACTIVITY_READY = "self_supporting_activity_ready"
    UNREGISTERED = "unregistered"
    """Not a target group: the citizen is not in the benefit registry, so no group is known."""


DEPRECATED_SPELLINGS: Mapping[str, TargetGroup] = MappingProxyType(
    {
        TargetGroup.JOBAFKLARING: TargetGroup.JOBAFKLARINGSYDELSE,
        TargetGroup.RESSOURCEFORLOEB: TargetGroup.RESSOURCEFORLOEBSYDELSE,
    }
)
"""Deprecated spelling → the one spelling of the same group since catalog 1.1.0 (README, "One spelling")."""


def current_spelling(group: object) -> object:
    """A target group as currently spelled; anything else unchanged, for the enum to judge."""
    return DEPRECATED_SPELLINGS.get(group, group) if isinstance(group, str) else group


CurrentTargetGroup = Annotated[TargetGroup, BeforeValidator(current_spelling)]
"""A target group, read in either spelling and always held (so written) in the current one."""


class Benefit(StrEnum):
    """The public income the citizen receives."""

    DAGPENGE = "dagpenge"
    KONTANTHJAELP = "kontanthjaelp"
    UDDANNELSESHJAELP = "uddannelseshjaelp"
    SYGEDAGPENGE = "sygedagpenge"
    JOBAFKLARINGSYDELSE = "jobafklaringsydelse"
    RESSOURCEFORLOEBSYDELSE = "ressourceforloebsydelse"
    LEDIGHEDSYDELSE = "ledighedsydelse"
    FOERTIDSPENSION = "foertidspension"
    NONE = "none"


class CitizenAssessed(Event):
    """Benefits assessed the citizen named in an application against the citizen-side rules."""

    type: ClassVar[str] = "dk.jobbro.benefits.citizen-assessed.v1"
    topic: ClassVar[str] = ASSESSMENTS
    key_field: ClassVar[str] = "citizen_ref"

    assessment_id: UUID = Field(
        description="Identifies this assessment.", examples=["5a7c9e1b-3d5f-4b7d-8f1a-3c5e7a9c1e3b"]
    )
    citizen_ref: CitizenRef
    application_id: UUID = Field(description="The application the assessment was made for.", examples=[_APPLICATION_ID])
    scheme: Scheme = Field(description="The scheme assessed for.", examples=["wage_subsidy_private"])
    assessed_on: date = Field(description="The day the facts below refer to.", examples=["2026-02-10"])
    target_group: CurrentTargetGroup = Field(
        description="The citizen's target group, in its current spelling (see `TargetGroup`).",
        examples=["dagpenge"],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    benefit: Benefit = Field(
        description="The benefit the citizen receives.",
        examples=["dagpenge"],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    unemployed_weeks: int = Field(
        ge=0,
        description="Weeks of total unemployment up to `assessed_on`.",
        examples=[30],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    unemployed_since: date | None = Field(
        default=None,
        description="The day the citizen's current unemployment began, as the registry holds it; null when not "
        "registered as unemployed, or in events published before this field existed. Rules read this date, never "
        "`unemployed_weeks`, which is rounded down to whole weeks.",
        examples=["2025-07-14"],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    rule_results: tuple[RuleResult, ...] = Field(
        description="Every citizen-side rule evaluated, passed or failed.",
        examples=[
            [
                {
                    "rule": "prior_unemployment",
                    "passed": True,
                    "reason": "30 weeks of unemployment, 26 required",
                    "rule_set_version": "2026-01-01",
                }
            ]
        ],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    eligible: bool = Field(description="True when every rule passed.", examples=[True])
    max_duration_weeks: int | None = Field(
        ge=1, description="Longest placement allowed for this citizen and scheme; null when unlimited.", examples=[26]
    )
    municipality_code: str | None = Field(
        default=None,
        pattern=r"^\d{3}$",
        description="Municipality code (kommunekode) of the citizen's municipality, which owes the citizen offers; "
        "null when not given.",
        examples=["101"],
    )
    has_qualifying_education: bool | None = Field(
        default=None,
        description="Whether the citizen holds a vocational qualifying education (erhvervskompetencegivende "
        "uddannelse), which decides the young's continuous right and duty to an offer; null when not known.",
        examples=[False],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    birth_date: date | None = Field(
        default=None,
        description="The citizen's birth date from the registry, which age-dependent deadlines need (activation read"
        " it from the CPR number of `application-submitted.v1`); null when the registry does not hold the citizen.",
        examples=["1990-01-01"],
        json_schema_extra=personal(PersonalData.IDENTITY),
    )


class CitizenErased(Event):
    """An operator erased the citizen in the registry: every service destroys the data key it holds for them, so
    what it sealed for them can no longer be read; what it records by `citizen_ref` stays."""

    type: ClassVar[str] = "dk.jobbro.benefits.citizen-erased.v1"
    topic: ClassVar[str] = ASSESSMENTS
    key_field: ClassVar[str] = "citizen_ref"

    erasure_id: UUID = Field(
        description="Identifies the erasure; each service records it with its own.",
        examples=["8e1f3a5c-7b9d-4f2e-a6c8-0d2e4f6a8b1c"],
    )
    citizen_ref: CitizenRef
    erased_at: datetime = Field(
        description="When benefits destroyed the citizen's data key.", examples=["2026-12-05T08:00:00+00:00"]
    )


class Adjustment(StrEnum):
    """How a benefit changes."""

    SUSPENDED = "suspended"
    RESUMED = "resumed"
    CONTINUED = "continued"
    TOP_UP_GRANTED = "top_up_granted"
    TOP_UP_ENDED = "top_up_ended"


class BenefitAdjusted(Event):
    """A citizen's benefit changes for a period, e.g. dagpenge are suspended during a wage-subsidy job."""

    type: ClassVar[str] = "dk.jobbro.benefits.benefit-adjusted.v1"
    topic: ClassVar[str] = ADJUSTMENTS
    key_field: ClassVar[str] = "citizen_ref"

    adjustment_id: UUID = Field(
        description="Identifies this adjustment.", examples=["6b8d0f2a-4c6e-4a8c-9b1d-5f7a9c1e3b5d"]
    )
    citizen_ref: CitizenRef
    application_id: UUID | None = Field(
        description="The placement that caused the change; null when none did.", examples=[_APPLICATION_ID]
    )
    benefit: Benefit = Field(
        description="The benefit that changes.",
        examples=["dagpenge"],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    change: Adjustment = Field(
        description="What happens to the benefit in the period.",
        examples=["suspended"],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    period: OpenPeriod = Field(
        description="When the change applies; open-ended when it holds until further notice.",
        examples=[{"start": "2026-03-02", "end": "2026-05-29"}],
    )
    reason: str = Field(
        min_length=1,
        description="Why, in words the citizen understands.",
        examples=["Dagpenge stopper under job med løntilskud."],
    )


class PayeeKind(StrEnum):
    """Who receives a payment."""

    CITIZEN = "citizen"
    EMPLOYER = "employer"


class PaymentPurpose(StrEnum):
    """What a payment is for."""

    WAGE_SUBSIDY = "wage_subsidy"
    BENEFIT = "benefit"
    BENEFIT_TOP_UP = "benefit_top_up"


CALCULATION_EXAMPLE = {
    "report_id": "7d9f1b3d-5f70-4c2e-8a6b-0d1f4a3c9e5b",
    "revision": 1,
    "rate_category": "private",
    "hourly_rate_ore": 8616,
    "paid_hours": "102.50",
    "hours_limit": "158.57",
    "subsidised_hours": "102.50",
    "gross_ore": 883140,
    "refunds_ore": 900,
    "state_aid_reduction_ore": 0,
    "payable_ore": 882240,
    "paid_before_ore": 0,
    "offset_ore": 0,
    "rule_set_versions": ["state-aid-2018.1", "subsidy-rates-2026.0-unconfirmed"],
    "arithmetic": "86.16 DKK/h (private) × 102.50 h (paid 102.50 h, at most 158.57 h by the weekly hours) = "
    "883140 øre; − 900 øre refunds − 0 øre over the state-aid cap = 882240 øre for the month; − 0 øre by earlier "
    "reports − 0 øre owed back = 882240 øre to pay",
}


class PaymentCalculation(Value):
    """How a wage-subsidy payment was worked out from the employer's wage report, so that the back-office and an
    auditor can redo it: gross = rate × subsidised hours (half up to whole øre); payable = gross − refunds −
    state-aid reduction; amount = payable − paid before − offset."""

    report_id: UUID = Field(
        description="The wage report the payment is for.", examples=[CALCULATION_EXAMPLE["report_id"]]
    )
    revision: int = Field(ge=1, description="1 for a month's first report, then one more per correction.", examples=[1])
    rate_category: str = Field(
        min_length=1, description="The rate data's category: the sector, or `<sector>_special`.", examples=["private"]
    )
    hourly_rate_ore: Ore = Field(gt=0, description="Subsidy per subsidised hour, in øre.", examples=[8616])
    paid_hours: Hours = Field(description="Hours the employer paid wages for in the month.", examples=["102.50"])
    hours_limit: Hours = Field(
        description="The placement's weekly hours × its days in the month ÷ 7, rounded down to 0.01 hour.",
        examples=["158.57"],
    )
    subsidised_hours: Hours = Field(description="The paid hours, at most the limit.", examples=["102.50"])
    gross_ore: Ore = Field(description="Rate × subsidised hours, rounded half up to whole øre.", examples=[883140])
    refunds_ore: Ore = Field(description="Refunds the employer received for the month (sickness).", examples=[900])
    state_aid_reduction_ore: Ore = Field(description="What the state-aid cap cut from the month.", examples=[0])
    payable_ore: Ore = Field(description="What the month is entitled to by this report.", examples=[882240])
    paid_before_ore: Ore = Field(description="What the month was entitled to by its earlier reports.", examples=[0])
    offset_ore: Ore = Field(
        description="What the employer owed back from earlier corrections, kept back from this payment.", examples=[0]
    )
    rule_set_versions: tuple[str, ...] = Field(
        min_length=1,
        description="Versions of the rule data used: the rates and the state-aid cap.",
        examples=[CALCULATION_EXAMPLE["rule_set_versions"]],
    )
    arithmetic: str = Field(
        min_length=1, description="The same steps in one line of words.", examples=[CALCULATION_EXAMPLE["arithmetic"]]
    )

    @model_validator(mode="after")
    def _adds_up(self) -> PaymentCalculation:
        if self.gross_ore - self.refunds_ore - self.state_aid_reduction_ore != self.payable_ore:
            raise ValueError("payable_ore must be gross_ore − refunds_ore − state_aid_reduction_ore")
        return self


class _PaymentInstruction(Event):
    """What every version of a payment instruction says besides its payee."""

    topic: ClassVar[str] = PAYMENT_INSTRUCTIONS
    key_field: ClassVar[str] = "instruction_id"

    instruction_id: UUID = Field(description="Identifies this instruction.", examples=[_INSTRUCTION_ID])
    idempotency_key: str = Field(
        min_length=1,
        max_length=200,
        description="The back-office pays each key at most once, however often the instruction arrives.",
        examples=["wage_subsidy:3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90:2026-03"],
    )
    payee_kind: PayeeKind = Field(description="Whether a citizen or an employer is paid.", examples=["employer"])
    payee_cvr: Cvr | None = Field(
        description="CVR number of the employer paid; null unless the payee is an employer.", examples=["12345678"]
    )
    amount_ore: Ore = Field(gt=0, description="Amount to pay, in øre.", examples=[882240])
    period: Period = Field(
        description="The period the payment covers.", examples=[{"start": "2026-03-02", "end": "2026-03-31"}]
    )
    purpose: PaymentPurpose = Field(description="What the payment is for.", examples=["wage_subsidy"])
    application_id: UUID | None = Field(
        description="The placement the payment belongs to, if any.", examples=[_APPLICATION_ID]
    )
    due_on: date = Field(description="Pay no later than this day.", examples=["2026-04-10"])
    calculation: PaymentCalculation | None = Field(
        default=None,
        description="How a wage-subsidy payment was worked out (rate, hours, rule versions, the arithmetic); null "
        "for a benefit payment, and in instructions issued before this field existed.",
        examples=[CALCULATION_EXAMPLE],
    )

    @model_validator(mode="after")
    def _calculation_pays_the_amount(self) -> _PaymentInstruction:
        found = self.calculation
        if found is not None and found.payable_ore - found.paid_before_ore - found.offset_ore != self.amount_ore:
            raise ValueError("amount_ore must be the calculation's payable_ore − paid_before_ore − offset_ore")
        return self

    def _one_payee(self, citizen_identified: bool) -> None:
        citizen = self.payee_kind is PayeeKind.CITIZEN
        if citizen != citizen_identified or citizen == (self.payee_cvr is not None):
            raise ValueError("a citizen payee is named by the citizen's fields only, an employer by a CVR number only")


class PaymentInstructionIssued(_PaymentInstruction):
    """The back-office must pay this amount; it carries a CPR number only when the payee is a citizen.

    Deprecated, no longer produced: v2 seals the CPR number (docs/privacy.md, "Payment instructions")."""

    type: ClassVar[str] = "dk.jobbro.benefits.payment-instruction-issued.v1"

    payee_cpr: Cpr | None = Field(
        description="CPR number of the citizen paid; null unless the payee is a citizen.",
        examples=[None, "0101901234"],
        json_schema_extra=personal(PersonalData.CPR),
    )

    @model_validator(mode="after")
    def _names_one_payee(self) -> PaymentInstructionIssued:
        self._one_payee(self.payee_cpr is not None)
        return self


class PaymentInstructionIssuedV2(_PaymentInstruction):
    """The back-office must pay this amount; a citizen payee's CPR number travels sealed under the citizen's payee
    key, which only the back-office is given (`PayeeKeyIssued`) and which erasing the citizen destroys."""

    type: ClassVar[str] = "dk.jobbro.benefits.payment-instruction-issued.v2"

    payee_ref: CitizenRef | None = Field(
        description="The citizen paid, by reference: names the payee key (`benefits.payee-keys.v1`) that opens "
        "`payee_cpr_sealed`; null unless the payee is a citizen.",
        examples=[None, "c-5f2b7e0a9d134c68"],
        json_schema_extra=personal(PersonalData.PSEUDONYM),
    )
    payee_cpr_sealed: str | None = Field(
        pattern=r"^[A-Za-z0-9_-]+$",
        max_length=200,
        description="The citizen's CPR number sealed under their payee key: base64url (unpadded) of `0x01`, a "
        "12-byte nonce and the AES-256-GCM ciphertext with `payee_ref` as associated data "
        "(`jobbro.shredding.open_with`); null unless the payee is a citizen.",
        examples=[None, "AXq0bD9nU2a7cF1eR3tY5wLm8Pz2Hk4jN6sQvBxC9dE0fG1hI2jK3lM4"],
        json_schema_extra=personal(PersonalData.SEALED),
    )

    @model_validator(mode="after")
    def _names_one_payee(self) -> PaymentInstructionIssuedV2:
        self._one_payee(self.payee_ref is not None)
        if (self.payee_ref is None) != (self.payee_cpr_sealed is None):
            raise ValueError("a citizen payee has both payee_ref and payee_cpr_sealed, an employer neither")
        return self


class PayeeKeyIssued(Event):
    """A citizen's payee key, for the back-office alone: it opens the CPR number sealed on that citizen's payment
    instructions. The latest per citizen is kept (a compacted topic) until `PayeeKeyDestroyed`."""

    type: ClassVar[str] = "dk.jobbro.benefits.payee-key-issued.v1"
    topic: ClassVar[str] = PAYEE_KEYS
    key_field: ClassVar[str] = "citizen_ref"

    citizen_ref: CitizenRef
    wrapped_key: str = Field(
        min_length=1,
        max_length=1000,
        description="The 256-bit payee key (base64url) as compact JWE (`A256KW`, `A256GCM`, its `kid` in the header) "
        "under the key-encryption key that benefits and the back-office share (`*_PAYEE_KEY_KEKS`).",
        examples=["eyJhbGciOiJBMjU2S1ciLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiMjAyNi0xMiJ9.wr.iv.ct.tag"],
        json_schema_extra=personal(PersonalData.SEALED),
    )


class PayeeKeyDestroyed(Event):
    """The citizen was erased: benefits destroyed their payee key, and the back-office deletes its copy. A tombstone
    (null value): compaction then removes every earlier record of the key from the topic."""

    type: ClassVar[str] = "dk.jobbro.benefits.payee-key-destroyed.v1"
    topic: ClassVar[str] = PAYEE_KEYS
    key_field: ClassVar[str] = "citizen_ref"
    tombstone: ClassVar[bool] = True

    citizen_ref: CitizenRef


EVENTS: tuple[type[Event], ...] = (
    CitizenAssessed,
    BenefitAdjusted,
    PaymentInstructionIssued,
    CitizenErased,
    PaymentInstructionIssuedV2,
    PayeeKeyIssued,
    PayeeKeyDestroyed,
)
