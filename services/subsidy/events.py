"""How the application's changes are told to other services: the published events, built from the aggregate."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from contracts import subsidy
from contracts.activation import ActivationChecked
from contracts.benefits import CitizenAssessed
from contracts.common import (
    DerivedFact,
    FactSource,
    HoursStep,
    Period,
    RuleDerivation,
    RuleResult,
    Scheme,
)
from contracts.common import (
    RuleOutcome as PublishedOutcome,
)
from rules import Outcome
from services.subsidy.domain import (
    PERSONAL_SOURCES,
    Application,
    ChangeKind,
    CitizenAnswer,
    Decider,
    Decision,
    Derivation,
    PendingChange,
    PlanAnswer,
    PlanConflict,
    RuleOutcome,
    Source,
    Verdict,
)


def submitted(application: Application, signed_at: datetime) -> subsidy.ApplicationSubmittedV2:
    """The citizen by reference only: benefits finds them in its registry, which holds the CPR number."""
    terms = application.terms
    return subsidy.ApplicationSubmittedV2(
        application_id=application.id,
        scheme=Scheme(terms.scheme.value),
        citizen_ref=_citizen_ref(application),
        employer_cvr=terms.employer_cvr,
        production_unit=terms.production_unit,
        employer_name=terms.employer_name,
        position_title=terms.position_title,
        employment_goal=terms.employment_goal,
        period=_period(application),
        weekly_hours=_hours(application),
        ordinary_employees_fte=terms.ordinary_employees_fte,
        signed_at=signed_at,
        employer_email=terms.employer_email,
    )


def position_submitted(application: Application, signed_at: datetime) -> subsidy.PositionApplicationSubmitted:
    """An application for a position: the terms the employer signed, and no citizen."""
    terms = application.terms
    return subsidy.PositionApplicationSubmitted(
        application_id=application.id,
        scheme=Scheme(terms.scheme.value),
        employer_cvr=terms.employer_cvr,
        production_unit=terms.production_unit,
        employer_name=terms.employer_name,
        position_title=terms.position_title,
        employment_goal=terms.employment_goal,
        period=_period(application),
        weekly_hours=_hours(application),
        ordinary_employees_fte=terms.ordinary_employees_fte,
        signed_at=signed_at,
        employer_email=terms.employer_email,
    )


def representative_requested(application: Application, sealed_link: str) -> subsidy.RepresentativeApprovalRequested:
    request, representative = application.representative_request, application.terms.representative
    assert request is not None and representative is not None
    return subsidy.RepresentativeApprovalRequested(
        application_id=application.id,
        request_id=request.request_id,
        representative_name=representative.name,
        representative_email=representative.email,
        employer_name=application.terms.employer_name,
        respond_by=request.expires_at.date(),
        sealed_link=sealed_link,
    )


def representative_answered(
    application: Application,
) -> subsidy.RepresentativeApproved | subsidy.RepresentativeDeclined:
    request = application.representative_request
    assert request is not None and request.answered_at is not None
    if request.approved:
        return subsidy.RepresentativeApproved(
            application_id=application.id, request_id=request.request_id, decided_at=request.answered_at
        )
    return subsidy.RepresentativeDeclined(
        application_id=application.id,
        request_id=request.request_id,
        decided_at=request.answered_at,
        reason=request.reason or "",
    )


def decided(
    application: Application,
) -> subsidy.ApplicationApproved | subsidy.ApplicationRejected | subsidy.ApplicationReferred | subsidy.PositionDecided:
    """The decision: approved with every result, rejected with every failed rule, or referred with the questions.

    While no citizen is named it is the position's decision.
    """
    if not application.citizen_named:
        return _position_decided(application)
    decision = application.decision
    assert decision is not None
    by = subsidy.Decider(decision.decided_by.value)
    if decision.verdict is Verdict.APPROVED:
        return subsidy.ApplicationApproved(
            application_id=application.id,
            citizen_ref=_citizen_ref(application),
            decided_by=by,
            rule_results=_results(decision.results),
            remark=decision.remark,
            derivation=_derivation(decision),
        )
    if decision.verdict is Verdict.REJECTED:
        return subsidy.ApplicationRejected(
            application_id=application.id,
            citizen_ref=_citizen_ref(application),
            decided_by=by,
            failed_rules=_failed(decision),
            remark=decision.remark,
            derivation=_derivation(decision),
        )
    return subsidy.ApplicationReferred(
        application_id=application.id,
        reasons=_results(decision.open_questions or decision.results),
        derivation=_derivation(decision),
    )


def change_referred(application: Application) -> subsidy.ApplicationReferred:
    """A change of the running placement that waits for a caseworker, with the questions they must decide."""
    change = application.pending_change
    assert change is not None
    return subsidy.ApplicationReferred(
        application_id=application.id, reasons=_results(change.questions), change=_referred_change(change)
    )


def change_rejected(application: Application, change: PendingChange, remark: str) -> subsidy.PlacementChangeRejected:
    """The caseworker rejected the referred change: the employer is told, and the placement runs on as before."""
    return subsidy.PlacementChangeRejected(
        application_id=application.id, change=_referred_change(change), remark=remark
    )


def _referred_change(change: PendingChange) -> subsidy.ReferredChange:
    extension = change.kind is ChangeKind.EXTENSION
    hours = tuple(
        HoursStep(from_date=step.starts_on, hours_per_week=step.hours_per_week)
        for step in change.terms.weekly_hours
        if step.starts_on >= change.effective_from
    )
    return subsidy.ReferredChange(
        kind=subsidy.ChangeKind(change.kind.value),
        new_end=change.terms.ends_on if extension else None,
        weekly_hours=None if extension else hours,
    )


def confirmed(application: Application, hourly_rate: Decimal | None) -> subsidy.PlacementConfirmed:
    terms = application.terms
    return subsidy.PlacementConfirmed(
        application_id=application.id,
        citizen_ref=_citizen_ref(application),
        scheme=Scheme(terms.scheme.value),
        employer_cvr=terms.employer_cvr,
        production_unit=terms.production_unit,
        employer_name=terms.employer_name,
        employment_goal=terms.employment_goal,
        period=_period(application),
        weekly_hours=_hours(application),
        subsidy_hourly_rate_ore=None if hourly_rate is None else int(hourly_rate * 100),
    )


def extended(application: Application, previous_end: date) -> subsidy.PlacementExtended:
    return subsidy.PlacementExtended(
        application_id=application.id,
        citizen_ref=_citizen_ref(application),
        previous_end=previous_end,
        new_end=application.terms.ends_on,
    )


def hours_changed(application: Application, effective_from: date) -> subsidy.PlacementHoursChanged:
    return subsidy.PlacementHoursChanged(
        application_id=application.id,
        citizen_ref=_citizen_ref(application),
        effective_from=effective_from,
        weekly_hours=tuple(step for step in _hours(application) if step.from_date >= effective_from),
    )


def ended(
    application: Application,
    early: bool,
    reason: subsidy.EndReason | None,
    remark: str | None,
    subsidy_ore: int | None,
    wage_costs_ore: int | None,
) -> subsidy.PlacementEnded:
    assert application.last_day is not None
    return subsidy.PlacementEnded(
        application_id=application.id,
        citizen_ref=_citizen_ref(application),
        last_day=application.last_day,
        kind=subsidy.EndKind.EARLY if early else subsidy.EndKind.PLANNED,
        reason=reason,
        remark=remark,
        subsidy_last_12_months_ore=subsidy_ore,
        wage_costs_last_12_months_ore=wage_costs_ore,
    )


def withdrawn(
    application: Application, by: subsidy.Withdrawer, reason: str | None
) -> subsidy.ApplicationWithdrawn | subsidy.PositionWithdrawn:
    """The withdrawal; a position withdrawn before its citizen was named has no citizen to name."""
    if not application.citizen_named:
        return subsidy.PositionWithdrawn(application_id=application.id, withdrawn_by=by, reason=reason)
    return subsidy.ApplicationWithdrawn(
        application_id=application.id, citizen_ref=_citizen_ref(application), withdrawn_by=by, reason=reason
    )


def wage_reported(
    application: Application,
    report_id: UUID,
    period: tuple[date, date],
    paid_hours: Decimal,
    wage_costs_ore: int,
    sickness_refunds_ore: int,
) -> subsidy.WageReportSubmitted:
    return subsidy.WageReportSubmitted(
        application_id=application.id,
        report_id=report_id,
        employer_cvr=application.terms.employer_cvr,
        month=Period(start=period[0], end=period[1]),
        paid_hours=paid_hours,
        wage_costs_ore=wage_costs_ore,
        sickness_refunds_ore=sickness_refunds_ore,
    )


def citizen_answer(event: CitizenAssessed, event_id: UUID) -> CitizenAnswer:
    """Benefits' assessment as the decision reads it, with the id of the event it came in."""
    return CitizenAnswer(
        assessment_id=event.assessment_id,
        assessed_on=event.assessed_on,
        target_group=event.target_group.value,
        unemployed_weeks=event.unemployed_weeks,
        unemployed_since=event.unemployed_since,
        eligible=event.eligible,
        max_duration_weeks=event.max_duration_weeks,
        results=tuple(
            RuleOutcome(
                r.rule, Outcome.PASSED if r.passed else Outcome.FAILED, r.reason, r.rule_set_version, "benefits"
            )
            for r in event.rule_results
        ),
        event_id=event_id,
    )


def plan_answer(event: ActivationChecked, event_id: UUID) -> PlanAnswer:
    """Activation's check as the decision reads it, with its rules' version and the id of the event it came in."""
    conflicts = tuple(PlanConflict(c.kind.value, c.description) for c in event.conflicts)
    return PlanAnswer(conflicts, event.rule_set_version, event_id)


def _position_decided(application: Application) -> subsidy.PositionDecided:
    decision = application.position_decision
    assert decision is not None
    reasons = () if decision.verdict is Verdict.APPROVED else _open(decision)
    return subsidy.PositionDecided(
        application_id=application.id,
        verdict=subsidy.PositionVerdict(decision.verdict.value),
        decided_by=subsidy.Decider(decision.decided_by.value),
        rule_results=_results(decision.results),
        reasons=reasons,
        remark=decision.remark,
        derivation=_derivation(decision),
    )


def _open(decision: Decision) -> tuple[RuleResult, ...]:
    """What a rejection or referral rests on: the failures of an automatic rejection, else the questions weighed."""
    if decision.verdict is Verdict.REJECTED:
        return _failed(decision)
    return _results(decision.open_questions)


def _citizen_ref(application: Application) -> str:
    """The citizen's reference, for the events that exist only once a citizen is named."""
    assert application.citizen_ref is not None
    return application.citizen_ref


def _results(results: tuple[RuleOutcome, ...]) -> tuple[RuleResult, ...]:
    return tuple(
        RuleResult(
            rule=r.rule, passed=r.outcome is Outcome.PASSED, reason=r.reason, rule_set_version=r.rule_set_version
        )
        for r in results
    )


def _derivation(decision: Decision) -> tuple[RuleDerivation, ...]:
    """The derivation as integrators may read it: a fact about the citizen, or worked out from one, has no value."""
    return tuple(_published(step) for step in decision.derivation)


def _published(step: Derivation) -> RuleDerivation:
    about_citizen = any(fact.source in PERSONAL_SOURCES for fact in step.facts)
    hidden = PERSONAL_SOURCES | ({Source.RULE} if about_citizen else set())
    return RuleDerivation(
        rule=step.rule,
        outcome=PublishedOutcome(step.outcome.value),
        rule_set_version=step.rule_set_version,
        legal_reference=step.legal_reference,
        evaluated_by=step.evaluated_by,
        facts=tuple(
            DerivedFact(
                name=fact.name,
                value=None if fact.source in hidden else fact.value,
                source=FactSource(fact.source.value),
                event_id=fact.event_id,
            )
            for fact in step.facts
        ),
    )


def _failed(decision: Decision) -> tuple[RuleResult, ...]:
    """The failed rules; a caseworker's rejection also fails the questions they were asked to judge."""
    failed = decision.failures if decision.decided_by is Decider.AUTOMATIC else decision.open_questions
    return tuple(
        RuleResult(rule=r.rule, passed=False, reason=r.reason, rule_set_version=r.rule_set_version) for r in failed
    )


def _period(application: Application) -> Period:
    return Period(start=application.terms.starts_on, end=application.terms.ends_on)


def _hours(application: Application) -> tuple[HoursStep, ...]:
    return tuple(
        HoursStep(from_date=s.starts_on, hours_per_week=s.hours_per_week) for s in application.terms.weekly_hours
    )
