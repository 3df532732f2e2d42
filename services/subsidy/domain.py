"""The application aggregate: its lifecycle as explicit states and transitions, and the history it keeps.

No I/O and no framework: a handler loads an application, calls one method, stores it and tells the others.
A method either changes the application and appends a line of history, or raises a `DomainError` and changes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID, uuid4

from rules import Outcome, RuleResult
from rules.internship.rule import HoursStep
from services.subsidy import eligibility
from services.subsidy.eligibility import Scheme

NOT_RULE_DATA = "-"
"""The rule-set version of a result that no rule file produced: a missing answer, an unversioned plan conflict."""


class Purpose(StrEnum):
    """Why an internship is offered (virksomhedspraktik)."""

    CLARIFY_JOB_GOAL = "clarify_job_goal"
    TRAIN_SKILLS = "train_skills"
    TOWARD_JOB = "toward_job"


class State(StrEnum):
    """Where an application is in its life; one for a position has states of its own until its citizen is named."""

    POSITION_AWAITING_REPRESENTATIVE = "position_awaiting_representative"
    POSITION_ASSESSING = "position_assessing"
    POSITION_REFERRED = "position_referred"
    POSITION_APPROVED = "position_approved"
    POSITION_REJECTED = "position_rejected"
    AWAITING_REPRESENTATIVE = "awaiting_representative"
    ASSESSING = "assessing"
    REFERRED = "referred"
    APPROVED = "approved"
    REJECTED = "rejected"
    DECLINED_BY_REPRESENTATIVE = "declined_by_representative"
    CONFIRMED = "confirmed"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"


TRANSITIONS: Mapping[State, frozenset[State]] = MappingProxyType(
    {
        State.POSITION_AWAITING_REPRESENTATIVE: frozenset(
            {State.POSITION_ASSESSING, State.DECLINED_BY_REPRESENTATIVE, State.POSITION_REFERRED, State.WITHDRAWN}
        ),
        State.POSITION_ASSESSING: frozenset(
            {State.POSITION_APPROVED, State.POSITION_REFERRED, State.POSITION_REJECTED}
        ),
        State.POSITION_REFERRED: frozenset({State.POSITION_APPROVED, State.POSITION_REJECTED, State.WITHDRAWN}),
        State.POSITION_APPROVED: frozenset({State.ASSESSING, State.WITHDRAWN}),
        State.POSITION_REJECTED: frozenset(),
        State.AWAITING_REPRESENTATIVE: frozenset(
            {State.ASSESSING, State.DECLINED_BY_REPRESENTATIVE, State.REFERRED, State.WITHDRAWN}
        ),
        State.ASSESSING: frozenset({State.APPROVED, State.REFERRED, State.REJECTED, State.WITHDRAWN}),
        State.REFERRED: frozenset({State.APPROVED, State.REJECTED, State.WITHDRAWN}),
        State.APPROVED: frozenset({State.CONFIRMED, State.WITHDRAWN}),
        State.CONFIRMED: frozenset({State.ENDED}),
        State.REJECTED: frozenset(),
        State.DECLINED_BY_REPRESENTATIVE: frozenset(),
        State.ENDED: frozenset(),
        State.WITHDRAWN: frozenset(),
    }
)
"""Every allowed move between states. A position is decided on the employer's side alone (at once, or after the
representative); naming the citizen for an approved position starts the ordinary assessment. Extensions and hours
changes keep a placement confirmed; wage reports are taken while it is confirmed or ended."""

PLACED_STATES = frozenset(
    set(State) - {State.POSITION_REJECTED, State.REJECTED, State.DECLINED_BY_REPRESENTATIVE, State.WITHDRAWN}
)
"""States in which an application occupies a place under the ratio rule: pending, running or run."""


class DomainError(Exception):
    """A command refused for a business reason: `code` is stable, the message a sentence for a person."""

    code = "refused"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.code


class TransitionNotAllowed(DomainError):
    """The command does not apply in the application's current state."""

    code = "transition_not_allowed"

    def __init__(self, action: str, current: State) -> None:
        super().__init__(f"Cannot {action}: the application is {current.value.replace('_', ' ')}.")
        self.current = current


class ChangeRefused(DomainError):
    """The command applies in this state, but what it asks for breaks a rule."""


class LinkUsed(DomainError):
    """A representative's link was already answered."""

    code = "link_used"


class Role(StrEnum):
    """In which capacity someone acts on an application, as its history records it."""

    EMPLOYER = "employer"
    REPRESENTATIVE = "representative"
    CASEWORKER = "caseworker"
    AUDITOR = "auditor"
    """Reads every application of every municipality; changes nothing."""


@dataclass(frozen=True)
class Actor:
    """A person acting on applications: employers are bound to a CVR number, caseworkers to a municipality,
    auditors to neither (they only read)."""

    role: Role
    subject: str
    cvr: str | None = None
    municipality: str | None = None

    def __str__(self) -> str:
        return f"{self.role.value}:{self.subject}"


@dataclass(frozen=True)
class Representative:
    """The employee representative who must approve in a company with more than one employee."""

    name: str
    email: str


@dataclass(frozen=True)
class Terms:
    """What the employer applied for and signed, without the citizen's CPR number."""

    scheme: Scheme
    employer_cvr: str
    employer_name: str
    employer_email: str | None
    production_unit: str
    municipality: str
    workplace: str
    position_title: str
    tasks: str
    purpose: Purpose | None
    employment_goal: str
    starts_on: date
    ends_on: date
    weekly_hours: tuple[HoursStep, ...]
    hourly_wage_ore: int | None
    hourly_wage_costs_ore: int | None
    ordinary_employees_fte: Decimal
    company_employees: int
    cvr_headcounts_fte: tuple[Decimal, ...]
    vacated_post_on: date | None
    net_addition_attested: bool
    ratio_override_remark: str | None
    consent_reference: str | None
    """The citizen's consent; None while a position has no citizen named."""
    representative: Representative | None


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's result as recorded on the application, with the service that evaluated it."""

    rule: str
    outcome: Outcome
    reason: str
    rule_set_version: str
    evaluated_by: str = "subsidy"
    also_read: tuple[str, ...] = ()
    """Versions of other rules' data the result used (the state-aid cap reads the rates)."""


class Source(StrEnum):
    """Where a fact a rule read came from."""

    EMPLOYER = "employer"
    """Declared by the employer in the signed application."""
    SUBSIDY = "subsidy"
    """This service's own records (the placements at the production unit)."""
    BENEFITS = "benefits"
    """Benefits' assessment of the citizen, from the benefit registry."""
    ACTIVATION = "activation"
    """Activation's check against the citizen's plan."""
    CASEWORKER = "caseworker"
    """Set by a caseworker, with a justification."""
    RULE = "rule"
    """Worked out by the rule from its data and the other facts."""


PERSONAL_SOURCES = frozenset({Source.BENEFITS, Source.ACTIVATION})
"""Facts from these sources are about the citizen: never published on an event."""


@dataclass(frozen=True)
class Evidence:
    """One fact a rule read, where it came from, and the event that brought it (None: no event, a record or rule)."""

    name: str
    value: str
    source: Source
    event_id: UUID | None = None
    justification: str | None = None


@dataclass(frozen=True)
class Derivation:
    """How one rule's result came about: the rule, its version and law, its outcome, and every fact it read."""

    rule: str
    outcome: Outcome
    rule_set_version: str
    legal_reference: str | None
    evaluated_by: str
    facts: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class CitizenAnswer:
    """Benefits' assessment of the citizen, as far as the decision uses it."""

    assessment_id: UUID
    assessed_on: date
    target_group: str
    unemployed_weeks: int
    eligible: bool
    max_duration_weeks: int | None
    results: tuple[RuleOutcome, ...]
    unemployed_since: date | None = None
    """The registry's date; None from answers sent before benefits sent it (then only the whole weeks are known)."""
    event_id: UUID | None = None
    """The CitizenAssessed event this answer came in."""


@dataclass(frozen=True)
class PlanConflict:
    """A plan entry of the citizen's that the application collides with, as activation described it."""

    kind: str
    description: str


@dataclass(frozen=True)
class PlanAnswer:
    """Activation's check of the application against the citizen's plan; no conflicts means it fits."""

    conflicts: tuple[PlanConflict, ...]
    rule_set_version: str | None = None
    """The plan-check rules activation used; None from answers sent before it said."""
    event_id: UUID | None = None
    """The ActivationChecked event this answer came in."""


class Verdict(StrEnum):
    """What a decision says."""

    APPROVED = "approved"
    REFERRED = "referred"
    REJECTED = "rejected"


class Decider(StrEnum):
    """Who made a decision; the values are those of the published events."""

    AUTOMATIC = "automatic"
    CASEWORKER = "caseworker"


@dataclass(frozen=True)
class DecisionInputs:
    """The facts the rules were evaluated on, kept so a decision can be explained and re-checked later."""

    today: date
    application: eligibility.ApplicationFacts
    citizen: eligibility.CitizenFacts | None
    hourly_wage_costs_ore: int | None
    answers_missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """A verdict with every rule's result, the rule-set versions and the inputs it came from."""

    verdict: Verdict
    decided_by: Decider
    decided_at: datetime
    results: tuple[RuleOutcome, ...]
    inputs: DecisionInputs
    remark: str | None = None
    start_exception: str | None = None
    """A caseworker's justification for approving a start before the decision (see `timing`)."""
    derivation: tuple[Derivation, ...] = ()
    """For each rule, the facts it read and where each came from."""

    @property
    def rule_set_versions(self) -> tuple[str, ...]:
        """Every rule-set version the results were evaluated with."""
        versions = {version for r in self.results for version in (r.rule_set_version, *r.also_read)}
        return tuple(sorted(versions - {NOT_RULE_DATA}))

    @property
    def failures(self) -> tuple[RuleOutcome, ...]:
        return tuple(r for r in self.results if r.outcome is Outcome.FAILED)

    @property
    def open_questions(self) -> tuple[RuleOutcome, ...]:
        """Results a caseworker must weigh: failures and judgements."""
        return tuple(r for r in self.results if r.outcome in (Outcome.FAILED, Outcome.NEEDS_JUDGEMENT))


def verdict_of(results: tuple[RuleOutcome, ...] | tuple[RuleResult, ...]) -> Verdict:
    """Any failure rejects (listing every one); else any judgement refers; else the rules approve."""
    outcomes = {result.outcome for result in results}
    if Outcome.FAILED in outcomes:
        return Verdict.REJECTED
    if Outcome.NEEDS_JUDGEMENT in outcomes:
        return Verdict.REFERRED
    return Verdict.APPROVED


@dataclass(frozen=True)
class RepresentativeRequest:
    """The request sent to the representative; its id is in the link, and it can be answered once."""

    request_id: UUID
    expires_at: datetime
    answered_at: datetime | None = None
    approved: bool | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Change:
    """One line of an application's history: what happened, by whom, and the state it left."""

    at: datetime
    action: str
    actor: str
    state: State
    note: str | None = None


class ChangeKind(StrEnum):
    """Which change of a running placement."""

    EXTENSION = "extension"
    HOURS = "hours"


@dataclass(frozen=True)
class PendingChange:
    """A change of a running placement that a rule referred to a caseworker, as a new application would be: the
    terms it would make and the questions. The placement runs on its own terms until a caseworker decides."""

    kind: ChangeKind
    terms: Terms
    questions: tuple[RuleOutcome, ...]
    effective_from: date
    """The first day the change makes a difference: an extension's first new day, new hours' first day."""


@dataclass
class Application:
    """An employer's application and, once confirmed, the placement it became."""

    id: UUID
    terms: Terms
    citizen_ref: str | None
    """None while an application for a position has no citizen named."""
    birth_date: date | None
    submitted_at: datetime
    state: State
    representative_request: RepresentativeRequest | None = None
    assessment: CitizenAnswer | None = None
    plan_check: PlanAnswer | None = None
    decision: Decision | None = None
    position_decision: Decision | None = None
    """The decision on the employer's side of an application for a position, taken before a citizen was named."""
    deadline_at: datetime | None = None
    last_day: date | None = None
    submitted_event_id: UUID | None = None
    """The event that published what the employer declared (the application, or the naming of its citizen)."""
    pending_change: PendingChange | None = None
    """A change of the running placement that waits for a caseworker."""
    changes: list[Change] = field(default_factory=list)
    """History lines not yet stored."""

    @classmethod
    def submit(
        cls,
        application_id: UUID,
        terms: Terms,
        citizen_ref: str,
        birth_date: date,
        by: Actor,
        now: datetime,
        *,
        representative_deadline: timedelta,
        answer_timeout: timedelta,
    ) -> Application:
        """A new application: with the representative first where the company has more than one employee."""
        application = cls(application_id, terms, citizen_ref, birth_date, now, State.ASSESSING)
        application.deadline_at = now + answer_timeout
        application._representative_first(State.AWAITING_REPRESENTATIVE, now, representative_deadline)
        application._note(now, "submitted", by)
        return application

    @classmethod
    def submit_position(
        cls, application_id: UUID, terms: Terms, by: Actor, now: datetime, *, representative_deadline: timedelta
    ) -> Application:
        """A new application for a position, no citizen named: the employer's side is decided first."""
        application = cls(application_id, terms, None, None, now, State.POSITION_ASSESSING)
        application._representative_first(State.POSITION_AWAITING_REPRESENTATIVE, now, representative_deadline)
        application._note(now, "position_submitted", by)
        return application

    @property
    def citizen_named(self) -> bool:
        """Whether the application names its citizen (from the start, or once its position was approved)."""
        return self.citizen_ref is not None

    @property
    def effective_end(self) -> date:
        """The last day the placement runs (or ran)."""
        return self.last_day or self.terms.ends_on

    @property
    def ready_to_decide(self) -> bool:
        """Whether every answer is in while the application waits for them; a position's rules need none."""
        if self.state is State.POSITION_ASSESSING:
            return True
        return self.state is State.ASSESSING and self.assessment is not None and self.plan_check is not None

    def answer_as_representative(
        self, request_id: UUID, approve: bool, reason: str | None, now: datetime, *, answer_timeout: timedelta
    ) -> None:
        """Record the representative's approval (then the rules may decide) or refusal (the application stops)."""
        request = self.representative_request
        if request is None or request.request_id != request_id:
            raise ChangeRefused("This link does not belong to the application's approval request.", "link_invalid")
        if request.answered_at is not None:
            raise LinkUsed("This link was already used to answer; it works only once.")
        assessing = State.ASSESSING if self.citizen_named else State.POSITION_ASSESSING
        target = assessing if approve else State.DECLINED_BY_REPRESENTATIVE
        self._require_move("answer as employee representative", target)
        self.representative_request = replace(request, answered_at=now, approved=approve, reason=reason)
        self.deadline_at = now + answer_timeout if approve else None
        self.state = target
        self._note(
            now, "representative_approved" if approve else "representative_declined", Role.REPRESENTATIVE, reason
        )

    def record_assessment(self, answer: CitizenAnswer, now: datetime) -> bool:
        """Keep benefits' first answer; a repeat, or an answer to a closed case, changes nothing (False)."""
        if self.assessment is not None or self.state not in _AWAITING_ANSWERS:
            return False
        self.assessment = answer
        self._note(now, "citizen_assessed", "benefits")
        return True

    def record_plan_check(self, answer: PlanAnswer, now: datetime) -> bool:
        """Keep activation's first answer; a repeat, or an answer to a closed case, changes nothing (False)."""
        if self.plan_check is not None or self.state not in _AWAITING_ANSWERS:
            return False
        self.plan_check = answer
        self._note(now, "activation_checked", "activation")
        return True

    def record_decision(self, decision: Decision) -> None:
        """The rules' verdict once every answer is in (a position's: once the representative approved)."""
        self._require_move("decide automatically", self._state_after(decision.verdict))
        self._decided(decision, "decided_automatically", "rules")

    def refer_after_deadline(self, decision: Decision) -> None:
        """Nothing waits forever: an answer that did not come in time sends the case to a caseworker."""
        self._require_move("refer after the deadline", self._state_after(Verdict.REFERRED))
        self._decided(replace(decision, verdict=Verdict.REFERRED), "referred_after_deadline", "timer")

    def decide_as_caseworker(
        self, approve: bool, remark: str, by: Actor, now: datetime, *, start_exception: str | None = None
    ) -> None:
        """A caseworker's verdict on a referred case (or position), with the reasons and the results they weighed."""
        self._require_state("decide as caseworker", State.REFERRED, State.POSITION_REFERRED)
        referred = self.decision if self.citizen_named else self.position_decision
        assert referred is not None
        decision = replace(
            referred,
            verdict=Verdict.APPROVED if approve else Verdict.REJECTED,
            decided_by=Decider.CASEWORKER,
            decided_at=now,
            remark=remark,
            start_exception=start_exception,
            derivation=(
                *referred.derivation,
                _caseworker_derivation(approve, remark, referred.verdict, start_exception),
            ),
        )
        self._decided(decision, "approved_by_caseworker" if approve else "rejected_by_caseworker", by, remark)

    def name_citizen(
        self,
        citizen_ref: str,
        birth_date: date,
        consent_reference: str,
        by: Actor,
        now: datetime,
        *,
        answer_timeout: timedelta,
    ) -> None:
        """The employer names the citizen for an approved position: from here it is decided like any application."""
        self._require_state("name a citizen", State.POSITION_APPROVED)
        self.citizen_ref, self.birth_date = citizen_ref, birth_date
        self.terms = replace(self.terms, consent_reference=consent_reference)
        self.state = State.ASSESSING
        self.deadline_at = now + answer_timeout
        self._note(now, "citizen_named", by)

    def confirm(self, by: Actor, now: datetime) -> None:
        """The employer's final approval: the placement may start."""
        self._move("confirm", State.CONFIRMED, now, by)

    def extended(self, new_end: date) -> PendingChange:
        """The change an extension to `new_end` would make, not yet made (the rules may refuse or refer it)."""
        self._require_changeable("extend")
        previous = self.terms.ends_on
        if new_end <= previous:
            raise ChangeRefused(f"An extension must end after the current end {previous}.", "extension_not_later")
        terms = replace(self.terms, ends_on=new_end)
        return PendingChange(ChangeKind.EXTENSION, terms, (), previous + timedelta(days=1))

    def with_hours(self, steps: tuple[HoursStep, ...]) -> PendingChange:
        """The change new weekly hours from the first new step on would make (earlier steps stay), not yet made."""
        self._require_changeable("change hours")
        effective_from = steps[0].starts_on
        if not self.terms.starts_on <= effective_from <= self.terms.ends_on:
            raise ChangeRefused(
                f"New hours must start within the placement, {self.terms.starts_on} to {self.terms.ends_on}.",
                "hours_outside_placement",
            )
        kept = tuple(step for step in self.terms.weekly_hours if step.starts_on < effective_from)
        return PendingChange(ChangeKind.HOURS, replace(self.terms, weekly_hours=kept + steps), (), effective_from)

    def make_change(self, change: PendingChange, by: Actor, now: datetime) -> None:
        """A change the rules allow: the placement runs on its terms from now on."""
        self._require_changeable(change.kind.value)
        self._note(now, _CHANGE_ACTIONS[change.kind], by, self._describe(change))
        self.terms = change.terms

    def refer_change(self, change: PendingChange, by: Actor, now: datetime) -> None:
        """A change a rule cannot decide alone waits for a caseworker, with its questions."""
        self._require_changeable(change.kind.value)
        self.pending_change = change
        self._note(now, "change_referred", by, self._describe(change))

    def decide_change(self, approve: bool, remark: str, by: Actor, now: datetime) -> PendingChange:
        """A caseworker's verdict on the referred change: approved, the placement runs on its terms; rejected, on its
        own. Returns the change decided."""
        self._require_state("decide a change", State.CONFIRMED)
        change = self.pending_change
        if change is None:
            raise ChangeRefused("No change of this placement waits for a caseworker.", "no_change_referred")
        note = f"{self._describe(change)}: {remark}"
        self.pending_change = None
        if approve:
            self.terms = change.terms
        self._note(now, "change_approved_by_caseworker" if approve else "change_rejected_by_caseworker", by, note)
        return change

    def _require_changeable(self, action: str) -> None:
        self._require_state(action, State.CONFIRMED)
        if self.pending_change is not None:
            raise ChangeRefused("Another change of the placement waits for a caseworker.", "change_pending")

    def _describe(self, change: PendingChange) -> str:
        if change.kind is ChangeKind.EXTENSION:
            return f"{self.terms.ends_on} to {change.terms.ends_on}"
        return f"from {change.effective_from}"

    def extend(self, new_end: date, by: Actor, now: datetime) -> date:
        """A new end date, terms otherwise unchanged; returns the previous end."""
        previous = self.terms.ends_on
        self.make_change(self.extended(new_end), by, now)
        return previous

    def change_hours(self, steps: tuple[HoursStep, ...], by: Actor, now: datetime) -> None:
        """New weekly hours from the first new step on; earlier steps stay as they were."""
        self.make_change(self.with_hours(steps), by, now)

    def end(self, last_day: date, reason: str | None, by: Actor, now: datetime) -> bool:
        """End the placement on `last_day`; returns whether that is early (before the planned end)."""
        self._require_move("end", State.ENDED)
        if not self.terms.starts_on <= last_day <= self.terms.ends_on:
            raise ChangeRefused(
                f"The last day must lie within the placement, {self.terms.starts_on} to {self.terms.ends_on}.",
                "end_outside_placement",
            )
        early = last_day < self.terms.ends_on
        if early != (reason is not None):
            raise ChangeRefused("An early end needs a reason; a planned end has none.", "end_reason")
        self.last_day, self.pending_change = last_day, None
        self._move("end", State.ENDED, now, by, f"last day {last_day}")
        return early

    def complete(self, now: datetime) -> None:
        """The placement ran to its planned end: ended on that day, told by the clock the day after."""
        self._require_move("complete", State.ENDED)
        if now.date() <= self.terms.ends_on:
            raise ChangeRefused(f"The placement runs until {self.terms.ends_on}.", "placement_running")
        self.last_day, self.pending_change = self.terms.ends_on, None
        self.state, self.deadline_at = State.ENDED, None
        self._note(now, "completed", "timer", f"last day {self.last_day}")

    def withdraw(self, by: Actor, reason: str | None, now: datetime) -> None:
        """Withdraw an application before the placement starts."""
        self._move("withdraw", State.WITHDRAWN, now, by, reason)

    def report_wages(self, year: int, month: int, by: Actor, now: datetime) -> tuple[date, date]:
        """The part of a calendar month a wage report covers: within the placement, and over (paid in arrears)."""
        if self.terms.scheme is Scheme.INTERNSHIP:
            raise ChangeRefused("Wage reports are for wage-subsidy placements only.", "not_a_wage_subsidy")
        self._require_state("report wages", State.CONFIRMED, State.ENDED)
        first = date(year, month, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        start, end = max(first, self.terms.starts_on), min(last, self.effective_end)
        if start > end:
            raise ChangeRefused(f"{first:%Y-%m} is outside the placement.", "month_outside_placement")
        if end >= now.date():
            raise ChangeRefused(f"{first:%Y-%m} can be reported once it is over (after {end}).", "month_not_over")
        self._note(now, "wages_reported", by, f"{start} to {end}")
        return start, end

    def _representative_first(self, waiting: State, now: datetime, deadline: timedelta) -> None:
        """In a company with more than one employee the representative approves before anything is decided."""
        if self.terms.company_employees <= 1:
            return
        if self.terms.representative is None:
            raise ChangeRefused(
                "A company with more than one employee must name the employee representative who approves.",
                "representative_missing",
            )
        self.representative_request = RepresentativeRequest(uuid4(), now + deadline)
        self.state = waiting
        self.deadline_at = self.representative_request.expires_at

    def _state_after(self, verdict: Verdict) -> State:
        """The state a verdict leads to: a position's own until its citizen is named."""
        return State(verdict.value) if self.citizen_named else _POSITION_STATES[verdict]

    def _decided(self, decision: Decision, action: str, by: Actor | str, note: str | None = None) -> None:
        self.state = self._state_after(decision.verdict)
        if self.citizen_named:
            self.decision = decision
        else:
            self.position_decision = decision
        self.deadline_at = None
        self._note(decision.decided_at, action, by, note)

    def _move(self, action: str, target: State, now: datetime, by: Actor, note: str | None = None) -> None:
        self._require_move(action, target)
        self.state = target
        self.deadline_at = None
        self._note(now, target.value, by, note)

    def _require_move(self, action: str, target: State) -> None:
        if target not in TRANSITIONS[self.state]:
            raise TransitionNotAllowed(action, self.state)

    def _require_state(self, action: str, *states: State) -> None:
        """For commands that keep the state, or that start from one state only."""
        if self.state not in states:
            raise TransitionNotAllowed(action, self.state)

    def _note(self, at: datetime, action: str, by: Actor | str, note: str | None = None) -> None:
        self.changes.append(Change(at, action, by if isinstance(by, str) else str(by), self.state, note))


_POSITION_STATES = MappingProxyType(
    {
        Verdict.APPROVED: State.POSITION_APPROVED,
        Verdict.REFERRED: State.POSITION_REFERRED,
        Verdict.REJECTED: State.POSITION_REJECTED,
    }
)
"""Where a verdict on a position leads."""

_CHANGE_ACTIONS = MappingProxyType({ChangeKind.EXTENSION: "extended", ChangeKind.HOURS: "hours_changed"})
"""The history line of a change made."""

_AWAITING_ANSWERS = frozenset({State.AWAITING_REPRESENTATIVE, State.ASSESSING, State.REFERRED})
"""States in which answers from benefits and activation are still recorded (a referred case may get late ones)."""


def _caseworker_derivation(
    approve: bool, remark: str, referred: Verdict, start_exception: str | None = None
) -> Derivation:
    """The caseworker's verdict as the last step of the derivation, with their written reasons as its justification
    (and, for a start before the decision, the exception they granted with its own)."""
    verdict = Verdict.APPROVED if approve else Verdict.REJECTED
    exception = (Evidence("start_exception", "granted", Source.CASEWORKER, justification=start_exception),)
    return Derivation(
        rule="caseworker_decision",
        outcome=Outcome.PASSED if approve else Outcome.FAILED,
        rule_set_version=NOT_RULE_DATA,
        legal_reference=None,
        evaluated_by="caseworker",
        facts=(
            Evidence("referred_verdict", referred.value, Source.RULE),
            Evidence("verdict", verdict.value, Source.CASEWORKER, justification=remark),
            *(exception if start_exception else ()),
        ),
    )
