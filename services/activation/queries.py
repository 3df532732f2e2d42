"""Read side: a citizen's plan, who is overdue, and statistics per municipality, as plain data for any presentation.

Deadlines are computed on read from the rule data loaded at start-up, so a corrected rule file changes every
answer after a restart. Statistics count confirmed placements that were not cancelled; a placement belongs to
the municipality and target group of the assessment made for its application (else the citizen's latest one),
a citizen's timeliness to those of their latest assessment.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import asyncpg

from rules import Rulebook, months_later
from services.activation import store
from services.activation.domain import SCHEME_NAMES, CitizenFacts, PlanEntry, Timeliness, timeliness
from services.activation.rules import Period


class CitizenNotFound(LookupError):
    """Activation knows neither a plan entry nor an assessment of this citizen."""


_MAX_MONTHS = 120


class InvalidWindow(ValueError):
    """A statistics window that ends before it starts."""


@dataclass(frozen=True)
class CitizenPlan:
    """A citizen's plan entries, oldest first, with where they belong and how timely their offers are."""

    citizen_ref: str
    entries: list[PlanEntry]
    municipality_code: str | None
    target_group: str | None
    timeliness: Timeliness | None


@dataclass(frozen=True)
class CitizenTimeliness:
    """One citizen whom an offer deadline covers, and their timeliness on the day asked about."""

    citizen_ref: str
    municipality_code: str | None
    target_group: str
    timeliness: Timeliness


@dataclass(frozen=True)
class Window:
    """The days statistics cover, both ends included; active placements are counted on the last day."""

    start: date
    end: date

    @property
    def months(self) -> list[str]:
        """Every calendar month the window touches, as `YYYY-MM`."""
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month.strftime("%Y-%m"))
            month = months_later(month, 1)
        return months

    @classmethod
    def of(cls, start: date | None, end: date) -> Window:
        """From `start` (default: the first day of the twelfth month back) to `end`, ten years at most."""
        try:
            start = start or months_later(end.replace(day=1), -11)
        except ValueError:
            raise InvalidWindow(f"no twelve months before {end} in the calendar") from None
        if end < start:
            raise InvalidWindow(f"the window ends ({end}) before it starts ({start})")
        if (end.year - start.year) * 12 + end.month - start.month >= _MAX_MONTHS:
            raise InvalidWindow(f"the window spans more than {_MAX_MONTHS} months")
        return cls(start, end)


@dataclass
class GroupStatistics:
    """Placements and timeliness for one municipality and target group (or all of its groups) over a window."""

    active_by_scheme: dict[str, int]
    """Placements running on the window's last day."""
    started_by_month: dict[str, int]
    """Placements whose first day is in the window, by `YYYY-MM`."""
    ended_by_month: dict[str, int]
    """Placements whose last day (the registered end, else the planned one) is in the window, by `YYYY-MM`."""
    ended_days: int = 0
    """Days (both ends included) of the placements that ended in the window."""
    citizens_with_deadline: int = 0
    overdue: int = 0
    """Citizens overdue an offer on the window's last day."""

    @classmethod
    def empty(cls, window: Window) -> GroupStatistics:
        return cls(dict.fromkeys(SCHEME_NAMES, 0), dict.fromkeys(window.months, 0), dict.fromkeys(window.months, 0))

    @property
    def average_duration_days(self) -> float | None:
        ended = sum(self.ended_by_month.values())
        return self.ended_days / ended if ended else None

    @property
    def share_overdue(self) -> float | None:
        return self.overdue / self.citizens_with_deadline if self.citizens_with_deadline else None


@dataclass
class MunicipalityStatistics:
    """One municipality's numbers in total and per target group; None where the events did not say."""

    municipality_code: str | None
    total: GroupStatistics
    by_target_group: dict[str | None, GroupStatistics] = field(default_factory=dict)


async def citizen_plan(conn: asyncpg.Connection, citizen_ref: str, rulebook: Rulebook, on: date) -> CitizenPlan:
    entries = await store.PgPlans(conn).plan_entries(citizen_ref)
    facts = await conn.fetchrow(f"{_LATEST_FACTS} WHERE citizen_ref = $1", citizen_ref)
    if not entries and facts is None:
        raise CitizenNotFound("no plan entry or assessment of this citizen")  # the path may hold a CPR number
    offers = [entry.period for entry in entries if not entry.cancelled]
    return CitizenPlan(
        citizen_ref=citizen_ref,
        entries=entries,
        municipality_code=facts and facts["municipality_code"],
        target_group=facts and facts["target_group"],
        timeliness=_timeliness(facts, offers, rulebook, on) if facts else None,
    )


async def citizens_timeliness(
    conn: asyncpg.Connection, rulebook: Rulebook, on: date, municipality: str | None = None
) -> list[CitizenTimeliness]:
    """Every citizen an offer deadline covers, by their latest assessment, with their timeliness on `on`."""
    rows = await conn.fetch(f"{_LATEST_FACTS} WHERE ($1::text IS NULL OR municipality_code = $1)", municipality)
    offers: dict[str, list[Period]] = defaultdict(list)
    for offer in await conn.fetch(_OFFERS, [row["citizen_ref"] for row in rows]):
        offers[offer["citizen_ref"]].append(Period(offer["period_start"], offer["last_day"]))
    found = []
    for row in rows:
        result = _timeliness(row, offers[row["citizen_ref"]], rulebook, on)
        if result is not None:
            found.append(CitizenTimeliness(row["citizen_ref"], row["municipality_code"], row["target_group"], result))
    return found


async def overdue(
    conn: asyncpg.Connection, rulebook: Rulebook, on: date, municipality: str | None = None
) -> list[CitizenTimeliness]:
    """Citizens without the offer due by `on`, longest overdue first."""
    everyone = await citizens_timeliness(conn, rulebook, on, municipality)
    late = [citizen for citizen in everyone if citizen.timeliness.overdue]
    return sorted(late, key=lambda citizen: (-citizen.timeliness.overdue_days, citizen.citizen_ref))


async def statistics(
    conn: asyncpg.Connection, rulebook: Rulebook, window: Window, municipality: str | None = None
) -> list[MunicipalityStatistics]:
    """Each municipality's numbers over `window`, side by side (only `municipality` when given)."""
    found: dict[str | None, MunicipalityStatistics] = {}

    def groups(municipality_code: str | None, target_group: str | None) -> Iterable[GroupStatistics]:
        if municipality_code not in found:
            found[municipality_code] = MunicipalityStatistics(municipality_code, GroupStatistics.empty(window))
        stats = found[municipality_code]
        if target_group not in stats.by_target_group:
            stats.by_target_group[target_group] = GroupStatistics.empty(window)
        return stats.total, stats.by_target_group[target_group]

    for row in await conn.fetch(_ACTIVE, window.end, municipality):
        for stats in groups(row["municipality"], row["target_group"]):
            stats.active_by_scheme[row["scheme"]] += row["placements"]
    for row in await conn.fetch(_STARTED, window.start, window.end, municipality):
        for stats in groups(row["municipality"], row["target_group"]):
            stats.started_by_month[row["month"]] += row["placements"]
    for row in await conn.fetch(_ENDED, window.start, window.end, municipality):
        for stats in groups(row["municipality"], row["target_group"]):
            stats.ended_by_month[row["month"]] += row["placements"]
            stats.ended_days += row["days"]
    for citizen in await citizens_timeliness(conn, rulebook, window.end, municipality):
        for stats in groups(citizen.municipality_code, citizen.target_group):
            stats.citizens_with_deadline += 1
            stats.overdue += int(citizen.timeliness.overdue)
    return sorted(found.values(), key=lambda stats: (stats.municipality_code is None, stats.municipality_code or ""))


def _timeliness(facts: asyncpg.Record, offers: list[Period], rulebook: Rulebook, on: date) -> Timeliness | None:
    """None also when the birth date is unknown (no application of the citizen seen): age decides some deadlines."""
    if facts["birth_date"] is None:
        return None
    citizen = CitizenFacts(
        target_group=facts["target_group"],
        birth_date=facts["birth_date"],
        assessed_on=facts["assessed_on"],
        unemployed_weeks=facts["unemployed_weeks"],
        has_qualifying_education=facts["has_qualifying_education"],
        registered_unemployed_since=facts["unemployed_since"],
    )
    return timeliness(citizen, offers, rulebook, on)


_LATEST_FACTS = """
    SELECT * FROM (
        SELECT DISTINCT ON (a.citizen_ref)
               a.citizen_ref, a.target_group, a.assessed_on, a.unemployed_weeks, a.unemployed_since,
               a.has_qualifying_education, a.municipality_code, c.birth_date
        FROM assessments a LEFT JOIN citizens c USING (citizen_ref)
        ORDER BY a.citizen_ref, a.assessed_on DESC, a.seq DESC
    ) latest"""

_OFFERS = """
    SELECT citizen_ref, period_start, coalesce(last_day, planned_end) AS last_day
    FROM plan_entries
    WHERE outcome IS DISTINCT FROM 'cancelled' AND citizen_ref = ANY($1::text[])"""

_PLACEMENTS = """
    WITH placements AS (
        SELECT e.scheme, e.period_start AS start, coalesce(e.last_day, e.planned_end) AS last_day,
               a.municipality_code AS municipality, a.target_group
        FROM plan_entries e
        LEFT JOIN LATERAL (
            SELECT municipality_code, target_group FROM assessments a
            WHERE a.citizen_ref = e.citizen_ref
            ORDER BY a.application_id = e.application_id DESC, a.assessed_on DESC, a.seq DESC
            LIMIT 1
        ) a ON true
        WHERE e.outcome IS DISTINCT FROM 'cancelled'
    )"""

_ACTIVE = f"""{_PLACEMENTS}
    SELECT municipality, target_group, scheme, count(*) AS placements FROM placements
    WHERE start <= $1 AND last_day >= $1 AND ($2::text IS NULL OR municipality = $2)
    GROUP BY 1, 2, 3"""

_STARTED = f"""{_PLACEMENTS}
    SELECT municipality, target_group, to_char(start, 'YYYY-MM') AS month, count(*) AS placements FROM placements
    WHERE start BETWEEN $1 AND $2 AND ($3::text IS NULL OR municipality = $3)
    GROUP BY 1, 2, 3"""

_ENDED = f"""{_PLACEMENTS}
    SELECT municipality, target_group, to_char(last_day, 'YYYY-MM') AS month, count(*) AS placements,
           sum(last_day - start + 1) AS days
    FROM placements
    WHERE last_day BETWEEN $1 AND $2 AND ($3::text IS NULL OR municipality = $3)
    GROUP BY 1, 2, 3"""
