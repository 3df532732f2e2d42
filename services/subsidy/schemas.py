"""The HTTP API's request and response bodies, and how a signed application form becomes the domain's terms."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from uuid import UUID

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.common import Cpr, Cvr, Fte, Hours, Ore, Period, PNumber, Scheme, WeeklyHours
from contracts.subsidy import EndReason
from services.subsidy.domain import (
    Application,
    Change,
    ChangeKind,
    Decision,
    DecisionInputs,
    Derivation,
    PendingChange,
    Purpose,
    Representative,
    RuleOutcome,
    State,
    Terms,
    Verdict,
)
from services.subsidy.domain import Scheme as DomainScheme
from services.subsidy.eligibility import HoursStep


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CitizenIn(_Body):
    """The citizen named, with their consent."""

    cpr: Cpr = Field(description="The citizen's CPR number (10 digits).", examples=["0101901234"])
    consent_reference: str = Field(
        min_length=1, max_length=200, description="Reference to the citizen's recorded consent.", examples=["S-2291"]
    )


class EmployerIn(_Body):
    """The employer and the workplace."""

    cvr: Cvr = Field(description="CVR number; must be the one the signer's certificate names.", examples=["12345678"])
    name: str = Field(min_length=1, max_length=200, examples=["Hansen VVS ApS"])
    email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        max_length=320,
        description="Where the employer is told of the decision; without it, Digital Post by CVR number.",
    )
    production_unit: PNumber = Field(description="P-number of the workplace.", examples=["1012345678"])
    workplace: str = Field(min_length=1, max_length=300, description="Address of the workplace.")
    company_employees: int = Field(
        ge=1, description="Persons employed by the company; above one, the employee representative must approve."
    )
    ordinary_employees_fte: Fte = Field(description="Ordinary employees at the P-number, full-time equivalents.")
    headcounts_fte: tuple[Fte, ...] = Field(
        default=(),
        max_length=24,
        description="The company's ordinary headcount per month (FTE), oldest first, last month last (wage subsidy).",
    )
    vacated_post_on: date | None = Field(
        default=None, description="When the post was vacated by a dismissal or resignation, if in the last 3 months."
    )
    net_addition_attested: bool = Field(
        default=False, description="A public employer attests that the post is additional (for a caseworker to weigh)."
    )


class WageIn(_Body):
    """Wage and wage costs of a wage-subsidy job, per paid hour."""

    hourly_wage_ore: Ore = Field(gt=0, description="Hourly wage, øre.", examples=[16000])
    hourly_wage_costs_ore: Ore = Field(
        gt=0, description="The employer's wage costs per paid hour (wage, pension, holiday pay), øre.", examples=[19500]
    )


class RepresentativeIn(_Body):
    """The employee representative who must approve (companies with more than one employee)."""

    name: str = Field(min_length=1, max_length=200, examples=["Mette Jensen"])
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320, examples=["mette.jensen@hansen-vvs.dk"])


class ApplicationForm(_Body):
    """The application the employer signs: its RFC 8785 canonical JSON is the JWS payload."""

    scheme: Scheme
    citizen: CitizenIn | None = Field(
        description="The citizen named; null for an application for a position, whose citizen is named once the"
        " position is approved (`POST /v1/applications/{id}/citizen`)."
    )
    employer: EmployerIn
    municipality: str = Field(pattern=r"^\d{3}$", description="Municipality (jobcenter) deciding.", examples=["751"])
    position_title: str = Field(min_length=1, max_length=200, examples=["VVS-assistent"])
    tasks: str = Field(min_length=1, max_length=4000)
    purpose: Purpose | None = Field(default=None, description="An internship's purpose; required for internships.")
    employment_goal: str = Field(min_length=1, max_length=500, examples=["Job som VVS-assistent"])
    period: Period
    weekly_hours: WeeklyHours = Field(description="Weekly hours as steps; hours may step up during the period.")
    wage: WageIn | None = Field(default=None, description="Required for wage subsidy; absent for an internship.")
    ratio_override_remark: str | None = Field(
        default=None, max_length=2000, description="The applicant's remark overriding a ratio-rule warning."
    )
    representative: RepresentativeIn | None = None

    @model_validator(mode="after")
    def _scheme_fields(self) -> ApplicationForm:
        internship = self.scheme is Scheme.INTERNSHIP
        if internship != (self.purpose is not None):
            raise ValueError("an internship states its purpose; a wage-subsidy job does not")
        if internship == (self.wage is not None):
            raise ValueError("a wage-subsidy job states wage and wage costs; an internship does not")
        return self

    def terms(self) -> Terms:
        """The domain's terms: everything but the CPR number."""
        employer, citizen = self.employer, self.citizen
        return Terms(
            scheme=DomainScheme(self.scheme.value),
            employer_cvr=employer.cvr,
            employer_name=employer.name,
            employer_email=employer.email,
            production_unit=employer.production_unit,
            municipality=self.municipality,
            workplace=employer.workplace,
            position_title=self.position_title,
            tasks=self.tasks,
            purpose=self.purpose,
            employment_goal=self.employment_goal,
            starts_on=self.period.start,
            ends_on=self.period.end,
            weekly_hours=hours_steps(self.weekly_hours),
            hourly_wage_ore=self.wage.hourly_wage_ore if self.wage else None,
            hourly_wage_costs_ore=self.wage.hourly_wage_costs_ore if self.wage else None,
            ordinary_employees_fte=employer.ordinary_employees_fte,
            company_employees=employer.company_employees,
            cvr_headcounts_fte=employer.headcounts_fte,
            vacated_post_on=employer.vacated_post_on,
            net_addition_attested=employer.net_addition_attested,
            ratio_override_remark=self.ratio_override_remark,
            consent_reference=citizen.consent_reference if citizen else None,
            representative=Representative(self.representative.name, self.representative.email)
            if self.representative
            else None,
        )


class SignedApplication(_Body):
    """An application and the employer's signature over it."""

    application: ApplicationForm
    signature: str = Field(
        min_length=1,
        max_length=65536,
        description="Compact JWS over the RFC 8785 canonical JSON of `application`, signer chain in `x5c`.",
    )

    def fingerprint(self) -> str:
        """SHA-256 of the canonical request: the same body gives the same fingerprint, whatever its key order."""
        return hashlib.sha256(rfc8785.dumps(self.model_dump(mode="json"))).hexdigest()


class RepresentativeAnswer(_Body):
    """The representative's answer, through the link they were sent."""

    token: str = Field(min_length=1, max_length=4096, description="The `token` of the link.")
    approve: bool = Field(description="True: the information is right and colleagues were heard.")
    reason: str | None = Field(default=None, max_length=2000, description="Required when declining.")

    @model_validator(mode="after")
    def _reason_when_declining(self) -> RepresentativeAnswer:
        if not self.approve and not self.reason:
            raise ValueError("declining needs a reason")
        return self


class StartException(_Body):
    """Why a placement may start before the caseworker's decision."""

    justification: str = Field(min_length=1, max_length=4000, description="The reason, kept with the decision.")


class CaseworkerDecision(_Body):
    """A caseworker's decision on a referred application."""

    approve: bool
    remark: str = Field(min_length=1, max_length=4000, description="The reasons, told to the employer.")
    start_exception: StartException | None = Field(
        default=None, description="Needed to approve a placement that starts before the day of this decision."
    )


class FinalConfirmation(_Body):
    """The employer's signed final approval."""

    signature: str = Field(
        min_length=1,
        max_length=65536,
        description="Compact JWS over the canonical JSON of `confirmation_document` of the application.",
    )


def confirmation_document(application_id: UUID, employer_cvr: str) -> dict[str, str]:
    """What an employer signs to give final approval of an approved application."""
    return {"statement": "final_confirmation", "application_id": str(application_id), "employer_cvr": employer_cvr}


class CitizenNaming(CitizenIn):
    """The citizen the employer names for an approved position, with the employer's signature over it."""

    signature: str = Field(
        min_length=1,
        max_length=65536,
        description="Compact JWS over the canonical JSON of `citizen_document` of the application and this citizen.",
    )


def citizen_document(application_id: UUID, employer_cvr: str, cpr: str, consent_reference: str) -> dict[str, str]:
    """What an employer signs to name the citizen, with their consent, for an approved position."""
    return {
        "statement": "citizen_named",
        "application_id": str(application_id),
        "employer_cvr": employer_cvr,
        "cpr": cpr,
        "consent_reference": consent_reference,
    }


class Extension(_Body):
    """A new end date; the terms are otherwise unchanged."""

    new_end: date


class HoursChange(_Body):
    """New weekly hours from the first step's date on."""

    weekly_hours: WeeklyHours


class EndOfPlacement(_Body):
    """The placement's last day; before the planned end it is an early end and needs a reason."""

    last_day: date
    reason: EndReason | None = None
    remark: str | None = Field(default=None, max_length=2000)
    subsidy_last_12_months_ore: Ore | None = Field(default=None, description="Wage subsidy only.")
    wage_costs_last_12_months_ore: Ore | None = Field(default=None, description="Wage subsidy only.")


class Withdrawal(_Body):
    """Why the application is withdrawn, if the employer wants to say."""

    reason: str | None = Field(default=None, max_length=2000)


class WageReportIn(_Body):
    """One month of a wage-subsidy placement, reported in arrears."""

    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The calendar month.", examples=["2026-03"])
    paid_hours: Hours
    wage_costs_ore: Ore
    sickness_refunds_ore: Ore = 0


class WageReportOut(BaseModel):
    """A wage report as recorded; a correction is a new report for the same month."""

    report_id: UUID
    period: Period
    paid_hours: Hours
    wage_costs_ore: Ore
    sickness_refunds_ore: Ore
    submitted_at: datetime


class RepresentativeStatus(BaseModel):
    """Whether the representative answered."""

    expires_at: datetime
    answered_at: datetime | None
    approved: bool | None
    reason: str | None


class DecisionView(BaseModel):
    """A decision with every rule's result and the rule-set versions; inputs only for caseworkers."""

    verdict: Verdict
    decided_by: str
    decided_at: datetime
    remark: str | None
    start_exception: str | None = Field(default=None, description="The justification for a start before the decision.")
    rule_set_versions: tuple[str, ...]
    results: tuple[RuleOutcome, ...]
    inputs: DecisionInputs | None = Field(description="The facts the rules read; shown to caseworkers only.")

    @classmethod
    def of(cls, decision: Decision, *, with_inputs: bool) -> DecisionView:
        return cls(
            verdict=decision.verdict,
            decided_by=decision.decided_by.value,
            decided_at=decision.decided_at,
            remark=decision.remark,
            start_exception=decision.start_exception,
            rule_set_versions=decision.rule_set_versions,
            results=decision.results,
            inputs=decision.inputs if with_inputs else None,
        )


class DerivationView(BaseModel):
    """How a decision came about: for every rule, its version and law, its outcome, and each fact it read with the
    fact's source and the id of the event that brought it. For caseworkers and auditors."""

    application_id: UUID
    verdict: Verdict
    decided_by: str
    decided_at: datetime
    remark: str | None = Field(description="A caseworker's written reasons, the justification of their verdict.")
    rule_set_versions: tuple[str, ...]
    rules: tuple[Derivation, ...]

    @classmethod
    def of(cls, application_id: UUID, decision: Decision) -> DerivationView:
        return cls(
            application_id=application_id,
            verdict=decision.verdict,
            decided_by=decision.decided_by.value,
            decided_at=decision.decided_at,
            remark=decision.remark,
            rule_set_versions=decision.rule_set_versions,
            rules=decision.derivation,
        )


class PendingChangeView(BaseModel):
    """A change of the running placement that waits for a caseworker's decision (the placement runs on its terms
    until then)."""

    kind: ChangeKind
    terms: Terms = Field(description="The terms the change would make.")
    effective_from: date = Field(description="The first day the change makes a difference.")
    questions: tuple[RuleOutcome, ...] = Field(description="The rules that need the caseworker's judgement.")

    @classmethod
    def of(cls, change: PendingChange) -> PendingChangeView:
        return cls(
            kind=change.kind, terms=change.terms, effective_from=change.effective_from, questions=change.questions
        )


class ApplicationView(BaseModel):
    """An application: its state, terms, decision and history. Never the CPR number."""

    id: UUID
    state: State
    citizen_ref: str | None = Field(description="The citizen's reference; null while a position has none named.")
    terms: Terms
    submitted_at: datetime
    last_day: date | None
    deadline_at: datetime | None = Field(description="When the case goes to a caseworker if answers are missing.")
    representative: RepresentativeStatus | None
    answers: dict[str, bool] = Field(description="Which answers from other services are in.")
    position_decision: DecisionView | None = Field(
        description="For an application for a position: the decision on the employer's side, before the citizen."
    )
    decision: DecisionView | None
    pending_change: PendingChangeView | None = Field(
        default=None, description="A change of the running placement that waits for a caseworker's decision."
    )
    history: list[Change]
    wage_reports: list[WageReportOut]
    version: int = Field(description="Counts the application's stored changes; its `ETag`, for `If-Match`.")

    @classmethod
    def of(
        cls,
        application: Application,
        history: list[Change],
        reports: list[WageReportOut],
        *,
        with_inputs: bool,
        version: int,
    ) -> ApplicationView:
        request = application.representative_request
        return cls(
            version=version,
            id=application.id,
            state=application.state,
            citizen_ref=application.citizen_ref,
            terms=application.terms,
            submitted_at=application.submitted_at,
            last_day=application.last_day,
            deadline_at=application.deadline_at,
            representative=RepresentativeStatus(
                expires_at=request.expires_at,
                answered_at=request.answered_at,
                approved=request.approved,
                reason=request.reason,
            )
            if request
            else None,
            answers={
                "citizen_assessed": application.assessment is not None,
                "activation_checked": application.plan_check is not None,
            },
            position_decision=DecisionView.of(application.position_decision, with_inputs=with_inputs)
            if application.position_decision
            else None,
            decision=DecisionView.of(application.decision, with_inputs=with_inputs) if application.decision else None,
            pending_change=PendingChangeView.of(application.pending_change) if application.pending_change else None,
            history=history,
            wage_reports=reports,
        )


class ApplicationSummary(BaseModel):
    """One line of a list of applications."""

    id: UUID
    state: State
    scheme: Scheme
    employer_cvr: str
    production_unit: str
    position_title: str
    starts_on: date
    ends_on: date
    submitted_at: datetime


class ForRepresentative(BaseModel):
    """What the representative confirms: the employer's information, without the citizen."""

    application_id: UUID
    state: State
    employer_name: str
    workplace: str
    position_title: str
    tasks: str
    period: Period
    weekly_hours: WeeklyHours
    expires_at: datetime


def hours_steps(weekly_hours: WeeklyHours) -> tuple[HoursStep, ...]:
    """The wire's weekly-hours steps as the domain's."""
    return tuple(HoursStep(step.from_date, step.hours_per_week) for step in weekly_hours)


class ErasureRequest(_Body):
    """An operator's request to erase a citizen's personal data kept by subsidy, and why."""

    cpr: Cpr = Field(description="The citizen's CPR number (10 digits); it is not kept.", examples=["0101901234"])
    reason: str = Field(
        min_length=10,
        max_length=1000,
        description="Why, with its basis (e.g. the citizen's request under GDPR art. 17 and its case number); kept.",
        examples=["Borgerens anmodning om sletning, GDPR art. 17, sag 2026-1234"],
    )


class ErasureView(_Body):
    """The erasure done: the evidence naming the citizen can no longer be opened; decisions stay, by reference."""

    erasure_id: UUID = Field(description="Identifies the erasure (the first, if the citizen was erased before).")
    citizen_ref: str = Field(description="The citizen's pseudonymous reference, which the kept records use.")
    erased_at: datetime = Field(description="When the citizen's data key was destroyed.")
