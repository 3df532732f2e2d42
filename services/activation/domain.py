"""The citizen's plan: entries for confirmed placements, conflicts with new applications, and offer timeliness.

Plain objects and pure functions; the handlers translate events into them and the store persists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid5

from rules import NotInRuleData, PlanCheckRule, Rulebook, RuleNotInForce
from rules.plan_checks.rule import Placement, same_recent_employer
from services.activation.rules import JobseekerFacts, OfferDue, Period, offer_due, overlaps

_ACTIVATION_IDS = UUID("6a0b7c1e-2d3f-4e5a-9b8c-7d6e5f4a3b2c")

SCHEME_NAMES = {
    "internship": "Virksomhedspraktik",
    "wage_subsidy_private": "Løntilskud hos privat arbejdsgiver",
    "wage_subsidy_public": "Løntilskud hos offentlig arbejdsgiver",
}
"""How a caseworker names each scheme, for conflict descriptions."""


def activation_id_for(application_id: UUID) -> UUID:
    """The plan entry's id, derived from the placement's: a rebuild from the log gives integrators the same ids."""
    return uuid5(_ACTIVATION_IDS, str(application_id))


class EntryClosed(ValueError):
    """A change arrived for a plan entry that has already ended or was cancelled."""


class Outcome(StrEnum):
    """How a plan entry ended."""

    COMPLETED = "completed"
    ENDED_EARLY = "ended_early"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class HoursStep:
    """From this day on, this many hours a week."""

    from_date: date
    hours_per_week: Decimal


@dataclass
class PlanEntry:
    """One offer in the citizen's plan (Min Plan): a confirmed placement and its terms as they stand now."""

    activation_id: UUID
    application_id: UUID
    citizen_ref: str
    scheme: str
    start: date
    planned_end: date
    weekly_hours: tuple[HoursStep, ...]
    employment_goal: str
    employer_cvr: str
    production_unit: str
    employer_name: str
    last_day: date | None = None
    outcome: Outcome | None = None

    @property
    def period(self) -> Period:
        """The days the offer runs or ran: to its registered last day, else to its planned end."""
        return Period(self.start, self.last_day or self.planned_end)

    @property
    def cancelled(self) -> bool:
        return self.outcome is Outcome.CANCELLED

    @property
    def status(self) -> str:
        """`recorded` until an end is registered, then `ended` or `cancelled`."""
        if self.outcome is None:
            return "recorded"
        return "cancelled" if self.cancelled else "ended"

    def extend(self, new_end: date) -> bool:
        """Move the planned end; False when it already ends then."""
        self._require_open("extended")
        if new_end == self.planned_end:
            return False
        self.planned_end = new_end
        return True

    def change_hours(self, effective_from: date, steps: Sequence[HoursStep]) -> bool:
        """Replace the schedule from `effective_from` on; False when nothing changes."""
        self._require_open("given new hours")
        schedule = tuple(step for step in self.weekly_hours if step.from_date < effective_from) + tuple(steps)
        if schedule == self.weekly_hours:
            return False
        self.weekly_hours = schedule
        return True

    def end(self, last_day: date, *, early: bool) -> bool:
        """Register the end (an end before the start cancels the entry); a different last day corrects it."""
        outcome = Outcome.CANCELLED if last_day < self.start else Outcome.ENDED_EARLY if early else Outcome.COMPLETED
        if (self.last_day, self.outcome) == (last_day, outcome):
            return False
        if self.cancelled:
            raise EntryClosed(f"placement {self.application_id} was cancelled; it cannot end on {last_day}")
        self.last_day, self.outcome = last_day, outcome
        return True

    def cancel(self) -> bool:
        """The placement was withdrawn before it began: its last day becomes the day before its start."""
        if self.cancelled:
            return False
        self._require_open("withdrawn")
        self.last_day, self.outcome = self.start - timedelta(days=1), Outcome.CANCELLED
        return True

    def _require_open(self, change: str) -> None:
        if self.outcome is not None:
            raise EntryClosed(
                f"placement {self.application_id} cannot be {change}: it has ended ({self.outcome}, last day "
                f"{self.last_day})"
            )


class ApplicationState(StrEnum):
    """Where an application stands; only pending ones can collide with a new application."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Application:
    """What an application asks for, as far as the citizen's plan is concerned."""

    application_id: UUID
    scheme: str
    period: Period
    employer_cvr: str


class ConflictKind(StrEnum):
    """How an application collides with the citizen's plan or their other applications."""

    OVERLAPPING_PERIOD = "overlapping_period"
    OVERLAPPING_APPLICATION = "overlapping_application"
    RECENT_EMPLOYER = "recent_employer"


@dataclass(frozen=True)
class Conflict:
    """One plan entry or pending application an application collides with, described for a caseworker."""

    kind: ConflictKind
    application_id: UUID
    scheme: str
    period: Period
    description: str

    @property
    def activation_id(self) -> UUID:
        return activation_id_for(self.application_id)


def conflicts(
    application: Application, entries: Iterable[PlanEntry], pending: Iterable[Application], rule: PlanCheckRule | None
) -> list[Conflict]:
    """Every collision of `application` with the plan's entries and with the citizen's applications still
    being decided (two employers could otherwise both be approved for the same weeks), under `rule`; without a
    rule in force (a start before every version) only the overlaps."""
    live = [entry for entry in entries if not entry.cancelled and entry.application_id != application.application_id]
    found = [
        _conflict(ConflictKind.OVERLAPPING_PERIOD, entry.application_id, entry.scheme, entry.period, "overlapper")
        for entry in live
        if overlaps(application.period, entry.period)
    ]
    found += [
        _conflict(ConflictKind.OVERLAPPING_APPLICATION, other.application_id, other.scheme, other.period, _PENDING)
        for other in pending
        if other.application_id != application.application_id and overlaps(application.period, other.period)
    ]
    if rule is None:
        return found
    earlier = {Placement(entry.scheme, entry.start, entry.employer_cvr): entry for entry in live}
    latest = same_recent_employer(rule, application.scheme, application.period.start, application.employer_cvr, earlier)
    if latest is not None:
        recent = earlier[latest]
        says = f"var det seneste job med løntilskud, hos samme arbejdsgiver (CVR {recent.employer_cvr})"
        found.append(_conflict(ConflictKind.RECENT_EMPLOYER, recent.application_id, recent.scheme, recent.period, says))
    return found


_PENDING = "overlapper en ansøgning under behandling"


def _conflict(kind: ConflictKind, application_id: UUID, scheme: str, period: Period, says: str) -> Conflict:
    description = f"{SCHEME_NAMES[scheme]} {period.start} til {period.end} {says}"
    return Conflict(kind, application_id, scheme, period, description)


@dataclass(frozen=True)
class Assessment:
    """What benefits assessed about a citizen for one application: the facts deadlines and statistics need."""

    assessment_id: UUID
    citizen_ref: str
    application_id: UUID
    assessed_on: date
    target_group: str
    unemployed_weeks: int
    has_qualifying_education: bool | None
    municipality_code: str | None
    unemployed_since: date | None = None
    """The registry's date, from benefits; None in assessments sent before benefits sent it."""


@dataclass(frozen=True)
class CitizenFacts:
    """What the citizen's latest assessment and CPR number tell about them, as the offer deadlines need it."""

    target_group: str
    birth_date: date
    assessed_on: date
    unemployed_weeks: int
    has_qualifying_education: bool | None
    registered_unemployed_since: date | None = None
    """The registry's date; None from assessments sent before benefits sent it."""

    @property
    def unemployed_since(self) -> date:
        """The registry's date; for an older assessment, counted back in whole weeks (up to 6 days late)."""
        return self.registered_unemployed_since or self.assessed_on - timedelta(weeks=self.unemployed_weeks)


@dataclass(frozen=True)
class Timeliness:
    """Ret og pligt for one citizen as of a day: the deadline, whether an offer met it, and what is due now."""

    deadline: str
    rule_set_version: str
    continuous: bool
    due_on: date
    """The first offer is due on or before this day."""
    met: bool
    """An offer started on or before `due_on`."""
    next_due_on: date | None
    """When an offer is due now: `due_on` until one has started; under a continuous right and duty, the day
    after the offers given so far end; None when nothing more is due."""
    overdue_days: int
    """Days past `next_due_on` without an offer; 0 when not overdue."""

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def timeliness(facts: CitizenFacts, offers: Iterable[Period], rulebook: Rulebook, on: date) -> Timeliness | None:
    """The citizen's timeliness as of `on`; None when no deadline in the rule data covers them.

    Only offers started by `on` count, and none that ended before the unemployment began. An unknown
    education counts as none, so the stricter deadline applies.
    """
    since = facts.unemployed_since
    jobseeker = JobseekerFacts(
        target_group=facts.target_group,
        birth_date=facts.birth_date,
        unemployed_since=since,
        has_qualifying_education=bool(facts.has_qualifying_education),
    )
    try:
        due = offer_due(jobseeker, rulebook)
    except (RuleNotInForce, NotInRuleData):
        return None  # e.g. unemployed since before the oldest rule version: no deadline can be told
    if due is None:
        return None
    given = [offer for offer in offers if offer.start <= on and (offer.end is None or offer.end >= since)]
    next_due = _next_due(due, given)
    return Timeliness(
        deadline=due.deadline,
        rule_set_version=due.rule_set_version,
        continuous=due.continuous,
        due_on=due.due_on,
        met=any(offer.start <= due.due_on for offer in given),
        next_due_on=next_due,
        overdue_days=max(0, (on - next_due).days) if next_due else 0,
    )


def _next_due(due: OfferDue, given: Sequence[Period]) -> date | None:
    if not given:
        return due.due_on
    if not due.continuous or any(offer.end is None for offer in given):
        return None
    return max(due.due_on, max(offer.end for offer in given if offer.end) + timedelta(days=1))
