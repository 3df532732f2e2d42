"""Events as subsidy and benefits would publish them, with random ids and plausible terms."""

import random
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from contracts.benefits import Benefit, CitizenAssessed, TargetGroup
from contracts.common import HoursStep, Period, RuleResult, Scheme
from contracts.subsidy import (
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationSubmittedV2,
    ApplicationWithdrawn,
    Decider,
    EndKind,
    EndReason,
    PlacementConfirmed,
    PlacementEnded,
    PlacementExtended,
    PlacementHoursChanged,
    Withdrawer,
)

_SUBSIDY_RATE_ORE = {Scheme.INTERNSHIP: None, Scheme.WAGE_SUBSIDY_PRIVATE: 8616, Scheme.WAGE_SUBSIDY_PUBLIC: 12513}


def citizen() -> str:
    return f"c-{uuid.uuid4().hex[:16]}"


def cpr_born(born: date) -> str:
    """A CPR number of someone born on `born` (the seventh digit says the century)."""
    seventh = 4 if born.year >= 2000 else random.randint(0, 3)
    return f"{born:%d%m%y}{seventh}{random.randint(0, 999):03d}"


def hours(start: date, per_week: str = "30.00") -> tuple[HoursStep, ...]:
    return (HoursStep(from_date=start, hours_per_week=Decimal(per_week)),)


def submitted(
    citizen_ref: str,
    start: date,
    end: date,
    scheme: Scheme = Scheme.INTERNSHIP,
    cvr: str = "12345678",
    application_id: UUID | None = None,
) -> ApplicationSubmittedV2:
    return ApplicationSubmittedV2(
        application_id=application_id or uuid.uuid4(),
        scheme=scheme,
        citizen_ref=citizen_ref,
        employer_cvr=cvr,
        production_unit="1012345678",
        employer_name="Hansen VVS ApS",
        position_title="VVS-assistent",
        employment_goal="Job som VVS-assistent",
        period=Period(start=start, end=end),
        weekly_hours=hours(start),
        ordinary_employees_fte=Decimal("12.00"),
        signed_at=datetime(start.year, start.month, 1, 9, tzinfo=UTC),
    )


def as_v1(application: ApplicationSubmittedV2, born: date) -> ApplicationSubmitted:
    """The same application as subsidy published it before v2: with a CPR number of someone born on `born`."""
    return ApplicationSubmitted(**application.model_dump(), citizen_cpr=cpr_born(born))


def confirmed(application: ApplicationSubmittedV2) -> PlacementConfirmed:
    return PlacementConfirmed(
        application_id=application.application_id,
        citizen_ref=application.citizen_ref,
        scheme=application.scheme,
        employer_cvr=application.employer_cvr,
        production_unit=application.production_unit,
        employer_name=application.employer_name,
        employment_goal=application.employment_goal,
        period=application.period,
        weekly_hours=application.weekly_hours,
        subsidy_hourly_rate_ore=_SUBSIDY_RATE_ORE[application.scheme],
    )


def rejected(application: ApplicationSubmittedV2) -> ApplicationRejected:
    failed = RuleResult(rule="ratio", passed=False, reason="2 of 1 allowed placements", rule_set_version="ratio-2018.1")
    return ApplicationRejected(
        application_id=application.application_id,
        citizen_ref=application.citizen_ref,
        decided_by=Decider.CASEWORKER,
        failed_rules=(failed,),
    )


def extended(placement: PlacementConfirmed, previous_end: date, new_end: date) -> PlacementExtended:
    return PlacementExtended(
        application_id=placement.application_id,
        citizen_ref=placement.citizen_ref,
        previous_end=previous_end,
        new_end=new_end,
    )


def hours_changed(placement: PlacementConfirmed, effective_from: date, per_week: str) -> PlacementHoursChanged:
    return PlacementHoursChanged(
        application_id=placement.application_id,
        citizen_ref=placement.citizen_ref,
        effective_from=effective_from,
        weekly_hours=hours(effective_from, per_week),
    )


def ended(placement: PlacementConfirmed, last_day: date, *, early: bool) -> PlacementEnded:
    wage_subsidy = placement.scheme is not Scheme.INTERNSHIP
    return PlacementEnded(
        application_id=placement.application_id,
        citizen_ref=placement.citizen_ref,
        last_day=last_day,
        kind=EndKind.EARLY if early else EndKind.PLANNED,
        reason=EndReason.ORDINARY_JOB if early else None,
        subsidy_last_12_months_ore=100_000 if wage_subsidy else None,
        wage_costs_last_12_months_ore=400_000 if wage_subsidy else None,
    )


def withdrawn(placement: PlacementConfirmed | ApplicationSubmittedV2) -> ApplicationWithdrawn:
    return ApplicationWithdrawn(
        application_id=placement.application_id, citizen_ref=placement.citizen_ref, withdrawn_by=Withdrawer.EMPLOYER
    )


def assessed(
    application: ApplicationSubmittedV2,
    *,
    assessed_on: date,
    unemployed_weeks: int,
    target_group: TargetGroup = TargetGroup.DAGPENGE,
    municipality_code: str | None = "101",
    has_qualifying_education: bool | None = None,
    unemployed_since: date | None = None,
    born: date | None = None,
) -> CitizenAssessed:
    return CitizenAssessed(
        assessment_id=uuid.uuid4(),
        citizen_ref=application.citizen_ref,
        application_id=application.application_id,
        scheme=application.scheme,
        assessed_on=assessed_on,
        target_group=target_group,
        benefit=Benefit.DAGPENGE if target_group is TargetGroup.DAGPENGE else Benefit.KONTANTHJAELP,
        unemployed_weeks=unemployed_weeks,
        unemployed_since=unemployed_since,
        rule_results=(),
        eligible=True,
        max_duration_weeks=None,
        municipality_code=municipality_code,
        has_qualifying_education=has_qualifying_education,
        birth_date=born,
    )
