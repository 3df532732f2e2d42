"""Events of the subsidy service: an application's life from submission to the end of the placement.

All travel on `subsidy.applications.v1`, keyed by `application_id`, so one application's events stay in order.
An application for a position starts without a citizen (`PositionApplicationSubmitted`, `PositionDecided`,
`PositionWithdrawn`); once the employer names the citizen for the approved position, `ApplicationSubmitted` follows
under the same id and the application goes on like any other.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field, model_validator

from contracts.common import (
    DERIVATION_EXAMPLE,
    RULE_RESULT_EXAMPLE,
    WEEKLY_HOURS_EXAMPLE,
    CitizenRef,
    Cpr,
    Cvr,
    Fte,
    Hours,
    Language,
    Ore,
    Period,
    PersonalData,
    PNumber,
    RuleDerivation,
    RuleResult,
    Scheme,
    Value,
    WeeklyHours,
    personal,
)
from contracts.envelope import Event

TOPIC = "subsidy.applications.v1"

_APPLICATION_ID = "3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90"
_REQUEST_ID = "7b1e9c2d-4f3a-4e8b-9c6d-1a2b3c4d5e6f"
_PERIOD = {"start": "2026-03-02", "end": "2026-05-29"}


class SubsidyEvent(Event):
    """An event about one application; its id is the record key."""

    topic: ClassVar[str] = TOPIC
    key_field: ClassVar[str] = "application_id"

    application_id: UUID = Field(
        description="The application (later the placement) this is about.", examples=[_APPLICATION_ID]
    )


class Decider(StrEnum):
    """Who made a decision on an application."""

    AUTOMATIC = "automatic"
    CASEWORKER = "caseworker"


class _CitizenApplicationSubmitted(SubsidyEvent):
    """The fields both versions of `ApplicationSubmitted` carry: the terms signed and the citizen's reference."""

    scheme: Scheme = Field(description="The scheme applied for.", examples=["wage_subsidy_private"])
    citizen_ref: CitizenRef
    employer_cvr: Cvr = Field(description="CVR number of the employer.", examples=["12345678"])
    production_unit: PNumber = Field(
        description="P-number of the workplace; the ratio rule counts per production unit.", examples=["1012345678"]
    )
    employer_name: str = Field(min_length=1, description="The employer's registered name.", examples=["Hansen VVS ApS"])
    position_title: str = Field(min_length=1, description="Title of the job or internship.", examples=["VVS-assistent"])
    employment_goal: str = Field(
        min_length=1,
        description="The employment goal written into the citizen's plan.",
        examples=["Job som VVS-assistent"],
    )
    period: Period = Field(description="Planned period of the placement.", examples=[_PERIOD])
    weekly_hours: WeeklyHours = Field(description="Planned weekly hours, as steps.", examples=[WEEKLY_HOURS_EXAMPLE])
    ordinary_employees_fte: Fte = Field(
        description="Ordinary employees at the production unit in full-time equivalents, as declared by the employer.",
        examples=["12.00"],
    )
    signed_at: datetime = Field(
        description="When the employer signed the application.", examples=["2026-02-10T09:15:00+01:00"]
    )
    employer_email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="Where the employer is told of referral, decision, confirmation request and payments;"
        " without it notify writes to the employer's Digital Post by CVR number.",
        examples=["ansoegning@hansen-vvs.dk"],
        json_schema_extra=personal(PersonalData.CONTACT),
    )
    employer_language: Language = Field(
        default=Language.DA, description="The language the employer is written to in.", examples=["da"]
    )
    citizen_language: Language = Field(
        default=Language.DA, description="The language the citizen is written to in.", examples=["da"]
    )


class ApplicationSubmittedV2(_CitizenApplicationSubmitted):
    """The employer signed an application naming a citizen who consented; the citizen only by `citizen_ref`.

    Produced instead of v1 from the release that introduced it: benefits finds the citizen in its registry by the
    reference, so no CPR number travels on this 400-day topic (docs/privacy.md, the migration of v1).
    """

    type: ClassVar[str] = "dk.jobbro.subsidy.application-submitted.v2"


class ApplicationSubmitted(_CitizenApplicationSubmitted):
    """Deprecated, no longer produced (see `ApplicationSubmittedV2`): the same, with the citizen's CPR number.

    Consumers read it until the last v1 record has left the topic (its retention after v2 production began);
    then its handlers and this class go, and the type string is never reused.
    """

    type: ClassVar[str] = "dk.jobbro.subsidy.application-submitted.v1"

    citizen_cpr: Cpr = Field(
        description="CPR number of the citizen named, given with the citizen's consent.", examples=["0101901234"]
    )


class PositionApplicationSubmitted(SubsidyEvent):
    """The employer signed an application for a position, naming no citizen.

    It carries no citizen at all: the position is decided on the employer's side first (`PositionDecided`); when
    the employer names the citizen for an approved position, `ApplicationSubmitted` follows under the same id.
    """

    type: ClassVar[str] = "dk.jobbro.subsidy.position-application-submitted.v1"

    scheme: Scheme = Field(description="The scheme applied for.", examples=["wage_subsidy_private"])
    employer_cvr: Cvr = Field(description="CVR number of the employer.", examples=["12345678"])
    production_unit: PNumber = Field(
        description="P-number of the workplace; the ratio rule counts per production unit.", examples=["1012345678"]
    )
    employer_name: str = Field(min_length=1, description="The employer's registered name.", examples=["Hansen VVS ApS"])
    position_title: str = Field(min_length=1, description="Title of the job or internship.", examples=["VVS-assistent"])
    employment_goal: str = Field(
        min_length=1,
        description="The employment goal the position offers a citizen.",
        examples=["Job som VVS-assistent"],
    )
    period: Period = Field(description="Planned period of the placement.", examples=[_PERIOD])
    weekly_hours: WeeklyHours = Field(description="Planned weekly hours, as steps.", examples=[WEEKLY_HOURS_EXAMPLE])
    ordinary_employees_fte: Fte = Field(
        description="Ordinary employees at the production unit in full-time equivalents, as declared by the employer.",
        examples=["12.00"],
    )
    signed_at: datetime = Field(
        description="When the employer signed the application.", examples=["2026-02-10T09:15:00+01:00"]
    )
    employer_email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="Where the employer is told of the position's decision; without it, Digital Post by CVR number.",
        examples=["ansoegning@hansen-vvs.dk"],
        json_schema_extra=personal(PersonalData.CONTACT),
    )
    employer_language: Language = Field(
        default=Language.DA, description="The language the employer is written to in.", examples=["da"]
    )


class RepresentativeApprovalRequested(SubsidyEvent):
    """The employee representative must approve before a caseworker decides (more than one employee)."""

    type: ClassVar[str] = "dk.jobbro.subsidy.representative-approval-requested.v1"

    request_id: UUID = Field(
        description="Identifies this request; the representative's answer refers to it.",
        examples=[_REQUEST_ID],
    )
    representative_name: str = Field(
        min_length=1,
        description="Name of the employee representative.",
        examples=["Mette Jensen"],
        json_schema_extra=personal(PersonalData.CONTACT),
    )
    representative_email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="Address the approval link is sent to.",
        examples=["mette.jensen@hansen-vvs.dk"],
        json_schema_extra=personal(PersonalData.CONTACT),
    )
    employer_name: str = Field(min_length=1, description="The employer's registered name.", examples=["Hansen VVS ApS"])
    respond_by: date = Field(description="Last day the representative can answer.", examples=["2026-02-24"])
    approval_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="No longer set (deprecated): a readable link on the topic let any reader answer. See"
        " `sealed_link`.",
        examples=[None],
    )
    sealed_link: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
        max_length=4096,
        description="The token of the representative's single-use link, sealed for notify only (compact JWE,"
        " `A256KW` + `A256GCM`, `kid` in its header, under a key no other reader holds), bound to `request_id`"
        " and `representative_email`; notify opens it and mails the link. Absent: the representative answers in"
        " the portal.",
        examples=[None, "eyJhbGciOiJBMjU2S1ciLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiMjAyNi0xMiJ9.aGVsbG8.aXY.Y2lwaGVy.dGFn"],
    )
    representative_language: Language = Field(
        default=Language.DA, description="The language the representative is written to in.", examples=["da"]
    )


class RepresentativeApproved(SubsidyEvent):
    """The representative confirmed the employer's information and that colleagues were heard."""

    type: ClassVar[str] = "dk.jobbro.subsidy.representative-approved.v1"

    request_id: UUID = Field(description="The request answered.", examples=[_REQUEST_ID])
    decided_at: datetime = Field(
        description="When the representative answered.", examples=["2026-02-11T14:02:00+01:00"]
    )


class RepresentativeDeclined(SubsidyEvent):
    """The representative refused; the application stops here."""

    type: ClassVar[str] = "dk.jobbro.subsidy.representative-declined.v1"

    request_id: UUID = Field(description="The request answered.", examples=[_REQUEST_ID])
    decided_at: datetime = Field(
        description="When the representative answered.", examples=["2026-02-11T14:02:00+01:00"]
    )
    reason: str = Field(
        min_length=1, description="The representative's reason.", examples=["Kolleger er ikke blevet hørt."]
    )


class ChangeKind(StrEnum):
    """Which change of a running placement."""

    EXTENSION = "extension"
    HOURS = "hours"


class ReferredChange(Value):
    """A change of a running placement that waits for a caseworker; the placement runs on its terms until then."""

    kind: ChangeKind = Field(description="An extension or new weekly hours.", examples=["extension"])
    new_end: date | None = Field(
        default=None, description="An extension's new last day; null for new hours.", examples=["2026-08-28"]
    )
    weekly_hours: WeeklyHours | None = Field(
        default=None,
        description="The new hours' whole schedule from their first day on; null for an extension.",
        examples=[WEEKLY_HOURS_EXAMPLE],
    )


class ApplicationReferred(SubsidyEvent):
    """The rules could not decide alone; a caseworker must. With `change`: not the application but a change of the
    running placement is referred (the caseworker's approval is published as the change, e.g. `PlacementExtended`)."""

    type: ClassVar[str] = "dk.jobbro.subsidy.application-referred.v1"

    reasons: tuple[RuleResult, ...] = Field(
        min_length=1,
        description="The rules that need a caseworker's judgement, with their automatic outcome.",
        examples=[
            [
                {
                    "rule": "net_additional_employment",
                    "passed": True,
                    "reason": "Public employer's signed attestation must be reviewed",
                    "rule_set_version": "2026-01-01",
                }
            ]
        ],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    derivation: tuple[RuleDerivation, ...] | None = Field(
        default=None,
        description="How the decision came about, rule by rule, without any fact about the citizen; the whole"
        " derivation is at the API's /v1/applications/{id}/derivation.",
        examples=[[DERIVATION_EXAMPLE]],
    )
    change: ReferredChange | None = Field(
        default=None,
        description="The change of a running placement that is referred; null when the application itself is.",
        examples=[{"kind": "extension", "new_end": "2026-08-28", "weekly_hours": None}],
    )


class PlacementChangeRejected(SubsidyEvent):
    """A caseworker rejected a referred change of the running placement; it runs on its terms as before."""

    type: ClassVar[str] = "dk.jobbro.subsidy.placement-change-rejected.v1"

    change: ReferredChange = Field(
        description="The change rejected, as it was referred.",
        examples=[{"kind": "extension", "new_end": "2026-08-28", "weekly_hours": None}],
    )
    remark: str = Field(
        min_length=1, description="The caseworker's reasons.", examples=["Forlængelsen er ikke begrundet."]
    )


class ApplicationApproved(SubsidyEvent):
    """The application was approved; the employer's final approval is still needed before the start."""

    type: ClassVar[str] = "dk.jobbro.subsidy.application-approved.v1"

    citizen_ref: CitizenRef
    decided_by: Decider = Field(description="Whether the rules or a caseworker approved.", examples=["automatic"])
    rule_results: tuple[RuleResult, ...] = Field(
        description="Every rule evaluated, all passed or overridden by the caseworker.",
        examples=[[RULE_RESULT_EXAMPLE]],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    remark: str | None = Field(
        default=None,
        description="The caseworker's remark, if any.",
        examples=["Godkendt efter gennemgang af erklæring."],
    )
    derivation: tuple[RuleDerivation, ...] | None = Field(
        default=None,
        description="How the decision came about, rule by rule, without any fact about the citizen; the whole"
        " derivation is at the API's /v1/applications/{id}/derivation.",
        examples=[[DERIVATION_EXAMPLE]],
    )


class ApplicationRejected(SubsidyEvent):
    """The application was rejected; every failed rule is listed so the employer can see why."""

    type: ClassVar[str] = "dk.jobbro.subsidy.application-rejected.v1"

    citizen_ref: CitizenRef
    decided_by: Decider = Field(description="Whether the rules or a caseworker rejected.", examples=["caseworker"])
    failed_rules: tuple[RuleResult, ...] = Field(
        min_length=1,
        description="Every rule that failed.",
        examples=[
            [
                {
                    "rule": "ratio",
                    "passed": False,
                    "reason": "3 of 2 allowed placements at P-number 1012345678 (12.00 FTE)",
                    "rule_set_version": "2026-01-01",
                }
            ]
        ],
        json_schema_extra=personal(PersonalData.SENSITIVE),
    )
    remark: str | None = Field(
        default=None, description="The caseworker's remark, if any.", examples=["Rimelighedskravet er ikke opfyldt."]
    )
    derivation: tuple[RuleDerivation, ...] | None = Field(
        default=None,
        description="How the decision came about, rule by rule, without any fact about the citizen; the whole"
        " derivation is at the API's /v1/applications/{id}/derivation.",
        examples=[[DERIVATION_EXAMPLE]],
    )


class PositionVerdict(StrEnum):
    """What the decision on a position says."""

    APPROVED = "approved"
    REJECTED = "rejected"
    REFERRED = "referred"


class PositionDecided(SubsidyEvent):
    """A position was decided on the employer's side: approved, rejected, or referred to a caseworker.

    Once approved, the employer may name a citizen for it; a referral is followed by the caseworker's decision,
    another `PositionDecided`. The rules about the citizen (their target group's maximum, benefits' and
    activation's checks) are decided after the citizen is named, and published as for any application.
    """

    type: ClassVar[str] = "dk.jobbro.subsidy.position-decided.v1"

    verdict: PositionVerdict = Field(description="The verdict on the position.", examples=["approved"])
    decided_by: Decider = Field(description="Whether the rules or a caseworker decided.", examples=["automatic"])
    rule_results: tuple[RuleResult, ...] = Field(
        min_length=1,
        description="Every rule evaluated on the employer's side; `passed` is false for a failed rule and for one"
        " a caseworker must judge.",
        examples=[[RULE_RESULT_EXAMPLE]],
    )
    reasons: tuple[RuleResult, ...] = Field(
        description="The rules behind a rejection (every failed rule, or the questions a caseworker rejected on) or a"
        " referral (every rule a caseworker must judge); empty when approved.",
        examples=[
            [],
            [
                {
                    "rule": "internship_hours",
                    "passed": False,
                    "reason": "40.00 hours a week from 2026-03-02 is outside 0 to 37 hours",
                    "rule_set_version": "internship-2018.1",
                }
            ],
        ],
    )
    remark: str | None = Field(
        default=None, description="The caseworker's remark, if any.", examples=["Stillingen er ny; godkendt."]
    )
    derivation: tuple[RuleDerivation, ...] | None = Field(
        default=None,
        description="How the decision came about, rule by rule, without any fact about the citizen; the whole"
        " derivation is at the API's /v1/applications/{id}/derivation.",
        examples=[[DERIVATION_EXAMPLE]],
    )

    @model_validator(mode="after")
    def _reasons_unless_approved(self) -> PositionDecided:
        if (self.verdict is PositionVerdict.APPROVED) != (not self.reasons):
            raise ValueError("a rejection or referral gives its reasons; an approval has none")
        return self


class PlacementConfirmed(SubsidyEvent):
    """The employer gave final approval and both parties were told: the citizen may start.

    It repeats the placement's terms so benefits and activation can act without keeping the application.
    """

    type: ClassVar[str] = "dk.jobbro.subsidy.placement-confirmed.v1"

    citizen_ref: CitizenRef
    scheme: Scheme = Field(description="The scheme of the placement.", examples=["wage_subsidy_private"])
    employer_cvr: Cvr = Field(description="CVR number of the employer.", examples=["12345678"])
    production_unit: PNumber = Field(description="P-number of the workplace.", examples=["1012345678"])
    employer_name: str = Field(min_length=1, description="The employer's registered name.", examples=["Hansen VVS ApS"])
    employment_goal: str = Field(
        min_length=1, description="The employment goal for the citizen's plan.", examples=["Job som VVS-assistent"]
    )
    period: Period = Field(description="Period of the placement.", examples=[_PERIOD])
    weekly_hours: WeeklyHours = Field(description="Weekly hours, as steps.", examples=[WEEKLY_HOURS_EXAMPLE])
    subsidy_hourly_rate_ore: Ore | None = Field(
        description="Subsidy per paid hour for a wage subsidy, from the rate data in force; null for an internship.",
        examples=[8616],
    )


class PlacementExtended(SubsidyEvent):
    """The placement got a new end date; its terms are otherwise unchanged."""

    type: ClassVar[str] = "dk.jobbro.subsidy.placement-extended.v1"

    citizen_ref: CitizenRef
    previous_end: date = Field(description="The end date before the extension.", examples=["2026-05-29"])
    new_end: date = Field(description="The new last day of the placement.", examples=["2026-08-28"])

    @model_validator(mode="after")
    def _later(self) -> PlacementExtended:
        if self.new_end <= self.previous_end:
            raise ValueError("an extension must move the end later")
        return self


class PlacementHoursChanged(SubsidyEvent):
    """The weekly hours of a running placement changed."""

    type: ClassVar[str] = "dk.jobbro.subsidy.placement-hours-changed.v1"

    citizen_ref: CitizenRef
    effective_from: date = Field(description="First day the new schedule applies.", examples=["2026-04-13"])
    weekly_hours: WeeklyHours = Field(
        description="The whole schedule from now on, replacing the previous one.",
        examples=[[{"from_date": "2026-04-13", "hours_per_week": "37.00"}]],
    )


class EndKind(StrEnum):
    """Whether a placement ran its planned course."""

    PLANNED = "planned"
    EARLY = "early"


class EndReason(StrEnum):
    """Why a placement ended early."""

    ORDINARY_JOB = "ordinary_job"
    EDUCATION = "education"
    ILLNESS = "illness"
    CITIZEN_LEFT = "citizen_left"
    EMPLOYER_ENDED = "employer_ended"
    OTHER = "other"


class PlacementEnded(SubsidyEvent):
    """The placement ended, as planned or early; a wage subsidy reports its last 12 months for the state-aid cap."""

    type: ClassVar[str] = "dk.jobbro.subsidy.placement-ended.v1"

    citizen_ref: CitizenRef
    last_day: date = Field(description="Last day of the placement.", examples=["2026-05-15"])
    kind: EndKind = Field(description="Planned or early end.", examples=["early"])
    reason: EndReason | None = Field(
        description="Why it ended early; null for a planned end.", examples=["ordinary_job"]
    )
    remark: str | None = Field(
        default=None, description="Free-text remark, if any.", examples=["Fastansat fra 18. maj."]
    )
    subsidy_last_12_months_ore: Ore | None = Field(
        description="Subsidy paid for the last 12 months; null for an internship.", examples=[4135680]
    )
    wage_costs_last_12_months_ore: Ore | None = Field(
        description="The employer's wage costs for the last 12 months; null for an internship.", examples=[11520000]
    )

    @model_validator(mode="after")
    def _reason_for_early_end(self) -> PlacementEnded:
        if (self.kind is EndKind.EARLY) != (self.reason is not None):
            raise ValueError("an early end needs a reason, a planned end has none")
        return self


class Withdrawer(StrEnum):
    """Who withdrew an application."""

    EMPLOYER = "employer"
    CITIZEN = "citizen"
    CASEWORKER = "caseworker"


class ApplicationWithdrawn(SubsidyEvent):
    """The application was withdrawn before the placement started."""

    type: ClassVar[str] = "dk.jobbro.subsidy.application-withdrawn.v1"

    citizen_ref: CitizenRef
    withdrawn_by: Withdrawer = Field(description="Who withdrew it.", examples=["employer"])
    reason: str | None = Field(
        default=None, description="The stated reason, if any.", examples=["Stillingen er nedlagt."]
    )


class PositionWithdrawn(SubsidyEvent):
    """An application for a position was withdrawn before a citizen was named for it."""

    type: ClassVar[str] = "dk.jobbro.subsidy.position-withdrawn.v1"

    withdrawn_by: Withdrawer = Field(description="Who withdrew it.", examples=["employer"])
    reason: str | None = Field(
        default=None, description="The stated reason, if any.", examples=["Stillingen er besat."]
    )


class WageReportSubmitted(SubsidyEvent):
    """The employer reported a month of a wage-subsidy placement: the subsidy is rate times paid hours, in arrears."""

    type: ClassVar[str] = "dk.jobbro.subsidy.wage-report-submitted.v1"

    report_id: UUID = Field(
        description="Identifies the report; a correction is a new report for the same month.",
        examples=["9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"],
    )
    employer_cvr: Cvr = Field(description="CVR number of the employer, the payee.", examples=["12345678"])
    month: Period = Field(
        description="The calendar month reported, cut to the placement's own period.",
        examples=[{"start": "2026-03-02", "end": "2026-03-31"}],
    )
    paid_hours: Hours = Field(description="Hours the employer paid wages for in the month.", examples=["102.50"])
    wage_costs_ore: Ore = Field(description="The employer's wage costs for the month.", examples=[2870000])
    sickness_refunds_ore: Ore = Field(
        description="Refunds the employer received for the citizen's sickness in the month; they reduce the subsidy.",
        examples=[0],
    )

    @model_validator(mode="after")
    def _one_month(self) -> WageReportSubmitted:
        if (self.month.start.year, self.month.start.month) != (self.month.end.year, self.month.end.month):
            raise ValueError("a wage report covers one calendar month")
        return self


EVENTS: tuple[type[Event], ...] = (
    ApplicationSubmitted,
    ApplicationSubmittedV2,
    RepresentativeApprovalRequested,
    RepresentativeApproved,
    RepresentativeDeclined,
    ApplicationReferred,
    PlacementChangeRejected,
    ApplicationApproved,
    ApplicationRejected,
    PlacementConfirmed,
    PlacementExtended,
    PlacementHoursChanged,
    PlacementEnded,
    ApplicationWithdrawn,
    WageReportSubmitted,
    PositionApplicationSubmitted,
    PositionDecided,
    PositionWithdrawn,
)
