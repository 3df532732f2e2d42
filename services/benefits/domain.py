"""The benefits service's decisions over plain data: what the rules say about a citizen, what a placement does to
their benefit, what a month pays, and how each payment is named so that it is never made twice."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from rules import NotInRuleData, Outcome, Rulebook, RuleResult, Sector, TargetGroups
from rules.max_duration import rule as duration
from services.benefits.rules import (
    CitizenFacts,
    HoursStep,
    Month,
    Period,
    SubsidyCalculation,
    WageSubsidyPlacement,
    YearToDate,
    check_prior_unemployment,
    prorate,
)

NO_BENEFIT = "none"
TOP_UP_BENEFITS = frozenset({"kontanthjaelp", "uddannelseshjaelp"})
"""Reduced to a top-up during a wage-subsidy job (domain rules: 'kontanthjælp recipients may get a top-up');
uddannelseshjælp is the same act's benefit for the young."""
KEPT_IN_WAGE_SUBSIDY = frozenset({"foertidspension"})
"""Kept during a wage-subsidy job (a job with wage subsidy for a disability pensioner); our reading, unconfirmed.
Every other benefit stops for the job's period."""
UNREGISTERED = "unregistered"
"""The target group reported for a citizen the registry does not hold."""

_DANISH_NAMES = {
    "dagpenge": "Dagpenge",
    "kontanthjaelp": "Kontanthjælp",
    "uddannelseshjaelp": "Uddannelseshjælp",
    "sygedagpenge": "Sygedagpenge",
    "jobafklaringsydelse": "Jobafklaringsydelse",
    "ressourceforloebsydelse": "Ressourceforløbsydelse",
    "ledighedsydelse": "Ledighedsydelse",
    "foertidspension": "Førtidspension",
}
_INSTRUCTIONS = UUID("0b6f3c2e-5a1d-4e8f-9c7b-2d4a6e8f0b1c")
"""Namespace of the instruction ids derived from idempotency keys."""
_REISSUE = re.compile(r"^(?P<key>.*):reissue-(?P<n>\d+)$")


class BenefitsError(Exception):
    """Something this service refuses: a command's caller is told why; an event causing it is dead-lettered.
    Never a business outcome (those are events)."""


class UnknownPlacement(BenefitsError):
    """An event names a placement this service never saw confirmed."""


class UnknownInstruction(BenefitsError):
    """A settlement or command names a payment instruction this service never issued."""


class NotAWageSubsidy(BenefitsError):
    """A wage report names an internship, which has no subsidy."""


class NotReissuable(BenefitsError):
    """Only a failed instruction may be issued again."""


class SettlementMismatch(BenefitsError):
    """A settlement that does not answer its instruction as issued (another amount or key): forged or mistaken."""


class PseudonymMismatch(BenefitsError):
    """The citizen reference in an event is not the one our key gives for its CPR number: the keys differ."""


class Change(StrEnum):
    """How a placement changes a benefit (the values of the published `Adjustment`)."""

    CONTINUED = "continued"
    SUSPENDED = "suspended"
    TOP_UP_GRANTED = "top_up_granted"
    RESUMED = "resumed"


class Purpose(StrEnum):
    """What a payment is for (the values of the published `PaymentPurpose`)."""

    WAGE_SUBSIDY = "wage_subsidy"
    BENEFIT = "benefit"
    BENEFIT_TOP_UP = "benefit_top_up"


@dataclass(frozen=True)
class Citizen:
    """A citizen as the benefit registry holds them, without the CPR number."""

    citizen_ref: str
    municipality: str
    benefit: str
    target_group: str
    monthly_rate_ore: int
    top_up_monthly_ore: int
    birth_date: date
    unemployed_since: date | None
    single_parent: bool
    upper_secondary_or_vocational_education: bool
    newly_graduated: bool
    qualifying_education: bool | None

    @property
    def facts(self) -> CitizenFacts:
        """What the entitlement rules read."""
        return CitizenFacts(
            target_group=self.target_group,
            birth_date=self.birth_date,
            unemployed_since=self.unemployed_since,
            single_parent=self.single_parent,
            has_upper_secondary_or_vocational_education=self.upper_secondary_or_vocational_education,
            newly_graduated=self.newly_graduated,
        )


@dataclass(frozen=True)
class Assessment:
    """The citizen-side verdict on an application: the citizen's situation and every rule's result."""

    citizen: Citizen | None
    assessed_on: date
    results: tuple[RuleResult, ...]
    max_duration_weeks: int | None

    @property
    def eligible(self) -> bool:
        """True when no rule failed or needs a caseworker."""
        return all(passed(result) for result in self.results)

    @property
    def unemployed_weeks(self) -> int:
        """Whole weeks of unemployment up to the day assessed."""
        since = self.citizen.unemployed_since if self.citizen else None
        return max((self.assessed_on - since).days // 7, 0) if since else 0


def passed(result: RuleResult) -> bool:
    """Whether a result lets the application through (a warning does; a needed judgement does not)."""
    return result.outcome in (Outcome.PASSED, Outcome.WARNING)


def assess(citizen: Citizen | None, sector: Sector | None, period: Period, rulebook: Rulebook) -> Assessment:
    """Evaluate the citizen-side rules for a placement in `period` (`sector` None: an internship), on its start."""
    starts_on = period.start
    if citizen is None:
        version = rulebook.in_force(TargetGroups, starts_on).rule_set_version
        unknown = RuleResult("citizen_unknown", Outcome.FAILED, "the citizen is not in the benefit registry", version)
        return Assessment(None, starts_on, (unknown,), None)
    results = []
    if sector is not None:
        results.append(check_prior_unemployment(citizen.facts, starts_on, rulebook))
    duration, weeks = _max_duration(citizen.facts, sector, period, rulebook)
    return Assessment(citizen, starts_on, (*results, duration), weeks)


def _max_duration(
    citizen: CitizenFacts, sector: Sector | None, period: Period, rulebook: Rulebook
) -> tuple[RuleResult, int | None]:
    """Whether the planned period fits the longest placement the citizen may have (rules/max_duration), in weeks."""
    scheme = duration.INTERNSHIP if sector is None else duration.WAGE_SUBSIDY
    who = duration.Citizen(citizen.target_group, citizen.birth_date, citizen.unemployed_since, citizen.newly_graduated)
    starts_on = period.start
    ends_on = period.end or date.max
    result = duration.check(rulebook, scheme, starts_on, ends_on, sector or Sector.PRIVATE, who)
    try:
        _, last_day = duration.latest_end(rulebook, scheme, starts_on, sector or Sector.PRIVATE, who)
    except NotInRuleData:
        return result, None
    return result, None if last_day is None else ((last_day - starts_on).days + 1) // 7


@dataclass(frozen=True)
class Placement:
    """A confirmed placement as this service keeps it: who, which scheme, when, how many hours."""

    application_id: UUID
    citizen_ref: str
    sector: Sector | None
    """The employer's sector for a wage-subsidy job; None for an internship."""
    employer_cvr: str
    period: Period
    hours: tuple[HoursStep, ...]
    ended: bool = False
    recoverable_ore: int = 0
    """Subsidy the employer owes back after downward corrections, not yet offset against later payments."""

    @property
    def wage_subsidy(self) -> WageSubsidyPlacement:
        """The placement as the subsidy calculation reads it."""
        if self.sector is None:
            raise NotAWageSubsidy(f"placement {self.application_id} is an internship: it has no wage subsidy")
        first, *later = self.hours
        return WageSubsidyPlacement(self.sector, self.period, first.hours_per_week, later_hours=tuple(later))

    def extended_to(self, new_end: date) -> Placement:
        return replace(self, period=Period(self.period.start, new_end))

    def with_hours(self, effective_from: date, steps: Iterable[HoursStep]) -> Placement:
        """The schedule before `effective_from` kept, the new steps from then on."""
        kept = tuple(step for step in self.hours if step.from_date < effective_from)
        return replace(self, hours=(*kept, *steps))

    def ended_on(self, last_day: date) -> Placement:
        return replace(self, period=Period(self.period.start, last_day), ended=True)


@dataclass(frozen=True)
class BenefitChange:
    """A change to a citizen's benefit for a period (no end: until further notice), with the reason in Danish."""

    benefit: str
    change: Change
    period: Period
    reason: str


def during_placement(benefit: str, wage_subsidy: bool) -> Change | None:
    """What a placement does to a benefit: an internship keeps it; a wage-subsidy job stops it or cuts it to a
    top-up; None when the citizen has no benefit."""
    if benefit == NO_BENEFIT:
        return None
    if not wage_subsidy or benefit in KEPT_IN_WAGE_SUBSIDY:
        return Change.CONTINUED
    return Change.TOP_UP_GRANTED if benefit in TOP_UP_BENEFITS else Change.SUSPENDED


def placement_started(benefit: str, wage_subsidy: bool, period: Period) -> BenefitChange | None:
    """The change for a confirmed placement's period (or for the days an extension adds)."""
    change = during_placement(benefit, wage_subsidy)
    if change is None:
        return None
    return BenefitChange(benefit, change, period, _reason(change, benefit))


def placement_ended(benefit: str, wage_subsidy: bool, last_day: date) -> BenefitChange | None:
    """A benefit stopped or cut for a wage-subsidy job is paid in full again from the day after its last day."""
    if during_placement(benefit, wage_subsidy) not in (Change.SUSPENDED, Change.TOP_UP_GRANTED):
        return None
    return BenefitChange(
        benefit, Change.RESUMED, Period(last_day + timedelta(days=1)), _reason(Change.RESUMED, benefit)
    )


def _reason(change: Change, benefit: str) -> str:
    name = _DANISH_NAMES.get(benefit, benefit)
    if change is Change.CONTINUED:
        return f"{name} udbetales som hidtil under forløbet."
    if change is Change.TOP_UP_GRANTED:
        return f"{name} nedsættes til et supplement under job med løntilskud."
    if change is Change.RESUMED:
        return f"{name} udbetales igen fra dagen efter, at job med løntilskud sluttede."
    used = " Perioden bruger af din ret til dagpenge." if benefit == "dagpenge" else ""
    return f"{name} stopper under job med løntilskud.{used}"


@dataclass(frozen=True)
class Instruction:
    """A payment to make, named by its idempotency key; the instruction id is derived from the key."""

    idempotency_key: str
    purpose: Purpose
    month: Month
    period: Period
    amount_ore: int
    due_on: date
    citizen_ref: str | None = None
    application_id: UUID | None = None
    payee_cvr: str | None = None
    instruction_id: UUID = field(init=False, repr=False, compare=False)
    """The same key always gives the same id, so a re-run computes the very instruction it issued before."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "instruction_id", uuid5(_INSTRUCTIONS, self.idempotency_key))

    def reissued(self) -> Instruction:
        """The same payment under a new key, for an instruction the back-office could not pay."""
        found = _REISSUE.match(self.idempotency_key)
        key, n = (found["key"], int(found["n"])) if found else (self.idempotency_key, 0)
        return replace(self, idempotency_key=f"{key}:reissue-{n + 1}")


@dataclass(frozen=True)
class StoredCpr:
    """A registered citizen's CPR number as kept: under the key ring and the citizen's data key (`data_key` None
    once the citizen is erased), or, imported before data keys, under the ring alone (`shreddable` False)."""

    sealed: bytes
    shreddable: bool
    data_key: bytes | None


@dataclass(frozen=True)
class PayableCitizen:
    """A citizen in a payment run: the benefit, its rates, and the wage-subsidy jobs overlapping the month."""

    citizen_ref: str
    benefit: str
    monthly_rate_ore: int
    top_up_monthly_ore: int
    wage_subsidy_periods: tuple[Period, ...]
    sealed_cpr: StoredCpr


def benefit_instructions(citizen: PayableCitizen, month: Month) -> list[Instruction]:
    """A month's benefit, prorated by days: in full outside wage-subsidy jobs, the top-up (if any) during them.

    The days placed are prorated as `prorate` rounds them and the benefit is the rest of the monthly rate, so the
    parts of a month add up to it exactly. Paid on the month's last day; an amount of zero is no instruction.
    """
    change = during_placement(citizen.benefit, wage_subsidy=True)
    if change is None:
        return []
    placed = _merged(citizen.wage_subsidy_periods, month) if change is not Change.CONTINUED else []
    amounts = {
        Purpose.BENEFIT: citizen.monthly_rate_ore - sum(prorate(citizen.monthly_rate_ore, p, month) for p in placed),
        Purpose.BENEFIT_TOP_UP: sum(prorate(citizen.top_up_monthly_ore, p, month) for p in placed)
        if change is Change.TOP_UP_GRANTED
        else 0,
    }
    return [
        Instruction(
            f"{purpose}:{citizen.citizen_ref}:{month}",
            purpose,
            month,
            month.period,
            amount,
            month.last_day,
            citizen_ref=citizen.citizen_ref,
        )
        for purpose, amount in amounts.items()
        if amount > 0
    ]


def _merged(periods: tuple[Period, ...], month: Month) -> list[Period]:
    """The periods cut to the month and joined where they overlap, so no day is counted twice."""
    if not periods:
        return []  # most citizens have no wage-subsidy job: the payment run skips the work
    cut = sorted(
        (max(p.start, month.first_day), min(p.end or month.last_day, month.last_day))
        for p in periods
        if p.start <= month.last_day and (p.end is None or p.end >= month.first_day)
    )
    merged: list[tuple[date, date]] = []
    for start, end in cut:
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [Period(start, end) for start, end in merged]


@dataclass(frozen=True)
class ReportedMonth:
    """The subsidy a month of a placement is entitled to, by its latest report."""

    month: Month
    revision: int
    payable_ore: int
    wage_costs_ore: int


def year_to_date(months: Iterable[ReportedMonth], month: Month) -> YearToDate:
    """Subsidy and wage costs of the calendar year's months before `month`, for the state-aid cap."""
    earlier = [m for m in months if m.month.year == month.year and m.month < month]
    return YearToDate(sum(m.payable_ore for m in earlier), sum(m.wage_costs_ore for m in earlier))


@dataclass(frozen=True)
class SubsidyPayment:
    """What a wage report pays now, and what the employer still owes back afterwards."""

    revision: int
    payable_ore: int
    pay_ore: int
    recoverable_ore: int
    paid_before_ore: int = 0
    """What the month was entitled to by its earlier reports (and so was paid, or offset, already)."""
    offset_ore: int = 0
    """What the employer owed back from earlier corrections, kept back from this payment."""


def subsidy_payment(
    previous: ReportedMonth | None, calculation: SubsidyCalculation, recoverable_ore: int
) -> SubsidyPayment:
    """Pay only the difference to what the month was entitled to before; a negative difference is owed back and
    offset against the placement's later payments, as is anything owed back already."""
    paid_before = previous.payable_ore if previous else 0
    difference = calculation.payable_ore - paid_before
    revision = previous.revision + 1 if previous else 1
    if difference < 0:
        return SubsidyPayment(revision, calculation.payable_ore, 0, recoverable_ore - difference, paid_before)
    offset = min(recoverable_ore, difference)
    return SubsidyPayment(
        revision, calculation.payable_ore, difference - offset, recoverable_ore - offset, paid_before, offset
    )


def subsidy_arithmetic(calculation: SubsidyCalculation, payment: SubsidyPayment) -> str:
    """The payment's arithmetic in one line, step by step, so the back-office and an auditor can redo it."""
    c = calculation
    return (
        f"{c.hourly_rate} DKK/h ({c.rate_category}) × {c.subsidised_hours:.2f} h (paid {c.paid_hours:.2f} h, at most "
        f"{c.hours_limit:.2f} h by the weekly hours) = {c.gross_ore} øre; − {c.refunds_ore} øre refunds "
        f"− {c.state_aid_reduction_ore} øre over the state-aid cap = {c.payable_ore} øre for the month; "
        f"− {payment.paid_before_ore} øre by earlier reports − {payment.offset_ore} øre owed back "
        f"= {payment.pay_ore} øre to pay"
    )


def subsidy_instruction(placement: Placement, month: Month, period: Period, payment: SubsidyPayment) -> Instruction:
    """The employer's payment for a month: key (placement, month), a correction's key also names its revision.

    Due on the 10th of the following month (the subsidy is paid in arrears).
    """
    key = f"{Purpose.WAGE_SUBSIDY}:{placement.application_id}:{month}"
    if payment.revision > 1:
        key += f":{payment.revision}"
    return Instruction(
        key,
        Purpose.WAGE_SUBSIDY,
        month,
        period,
        payment.pay_ore,
        month.next.first_day + timedelta(days=9),
        application_id=placement.application_id,
        payee_cvr=placement.employer_cvr,
    )


class State(StrEnum):
    """Where an instruction stands with the back-office: issued → settled, or failed → reissued."""

    ISSUED = "issued"
    SETTLED = "settled"
    FAILED = "failed"
    REISSUED = "reissued"


@dataclass(frozen=True)
class LedgerEntry:
    """An issued instruction and its state."""

    instruction: Instruction
    state: State


@dataclass(frozen=True)
class Totals:
    """A month's instructions of one purpose, in øre: issued = settled + failed + outstanding when every
    settlement paid the amount instructed. Failed includes instructions since reissued; each replacement is
    counted as issued in its own right."""

    purpose: Purpose
    instructions: int
    issued_ore: int
    settled_ore: int
    failed_ore: int
    outstanding_ore: int


def settlement_mismatch(instruction: Instruction, amount_ore: int, idempotency_key: str) -> str | None:
    """Why a settlement cannot be the back-office's answer to `instruction` (it must pay exactly what was
    instructed, under the instruction's own key, which names its payee and period); None when it can."""
    if idempotency_key != instruction.idempotency_key:
        return f"idempotency key {idempotency_key!r} is not the instruction's {instruction.idempotency_key!r}"
    if amount_ore != instruction.amount_ore:
        return f"settled {amount_ore} øre, instructed {instruction.amount_ore} øre"
    return None
