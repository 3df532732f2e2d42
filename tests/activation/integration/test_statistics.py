"""Statistics and the overdue list over a data set seeded through Kafka, against numbers computed here from the seed.

The expected numbers are worked out below in plain Python from the seed list, without the service's code:
a placement counts for the municipality and target group of the assessment made for its application, a
citizen's timeliness for those of their latest assessment.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.benefits import TargetGroup
from contracts.common import Scheme
from contracts.envelope import Event
from tests.activation.events import assessed, citizen, confirmed, ended, extended, rejected, submitted, withdrawn
from tests.activation.integration.conftest import Activation
from tests.identity import Callers

INTERNSHIP, PRIVATE, PUBLIC = Scheme.INTERNSHIP, Scheme.WAGE_SUBSIDY_PRIVATE, Scheme.WAGE_SUBSIDY_PUBLIC
G = TargetGroup
FROM, TO = date(2025, 1, 1), date(2025, 12, 31)
MONTHS = [f"2025-{month:02d}" for month in range(1, 13)]


@dataclass(frozen=True)
class Offer:
    scheme: Scheme
    start: date
    end: date
    extended_to: date | None = None
    ended_early: date | None = None
    end_registered: bool = False
    decision: str = "confirmed"  # or "rejected", or "withdrawn" after confirmation
    municipality: str | None = None  # assessed in another municipality than the citizen's first one


@dataclass(frozen=True)
class Seed:
    municipality: str | None
    group: TargetGroup
    born: date
    since: date
    offers: tuple[Offer, ...]
    education: bool | None = None


def d(text: str) -> date:
    return date.fromisoformat(text)


SEEDS = [
    # København
    Seed("101", G.DAGPENGE, d("1980-04-02"), d("2025-01-06"), (
        Offer(PRIVATE, d("2025-05-05"), d("2025-10-31"), end_registered=True),
    )),
    Seed("101", G.DAGPENGE, d("1975-09-20"), d("2025-02-03"), (Offer(INTERNSHIP, d("2025-09-01"), d("2025-09-26")),)),
    Seed("101", G.DAGPENGE, d("1990-01-15"), d("2025-03-03"), (
        Offer(INTERNSHIP, d("2025-06-02"), d("2025-06-27"), decision="rejected"),
    )),
    Seed("101", G.KONTANTHJAELP_JOB_READY, d("2001-06-10"), d("2025-04-07"), (
        Offer(INTERNSHIP, d("2025-04-07"), d("2025-05-02")),
        Offer(PUBLIC, d("2025-05-05"), d("2025-11-04"), extended_to=d("2026-02-27")),
    )),
    Seed("101", G.SYGEDAGPENGE, d("1970-03-03"), d("2025-06-02"), (
        Offer(INTERNSHIP, d("2025-08-04"), d("2025-10-24"), ended_early=d("2025-09-12")),
    )),
    Seed("101", G.DAGPENGE, d("1985-11-11"), d("2024-09-02"), (Offer(PRIVATE, d("2024-12-02"), d("2025-05-30")),)),
    # Aarhus
    Seed("751", G.DAGPENGE, d("1982-02-14"), d("2025-01-13"), (Offer(PRIVATE, d("2025-07-01"), d("2025-12-31")),)),
    Seed("751", G.UDDANNELSESHJAELP_EDUCATION_READY, d("2003-03-03"), d("2025-08-04"), (
        Offer(INTERNSHIP, d("2025-09-01"), d("2025-09-26"), decision="withdrawn"),
    ), education=True),
    Seed("751", G.UDDANNELSESHJAELP_ACTIVITY_READY, d("2000-12-24"), d("2025-10-06"), (
        Offer(INTERNSHIP, d("2025-10-20"), d("2025-11-14")),
    ), education=False),
    Seed("751", G.DAGPENGE, d("1968-07-07"), d("2025-05-05"), (
        Offer(INTERNSHIP, d("2025-11-03"), d("2025-11-28")),
        Offer(PUBLIC, d("2026-01-05"), d("2026-06-30")),
    )),
    # moved from København to Aarhus between two applications
    Seed("101", G.DAGPENGE, d("1979-10-10"), d("2025-01-20"), (
        Offer(INTERNSHIP, d("2025-03-03"), d("2025-03-28")),
        Offer(PRIVATE, d("2025-06-02"), d("2025-11-28"), ended_early=d("2025-10-17"), municipality="751"),
    )),
    # Odense, and a citizen whose municipality the assessment did not give
    Seed("461", G.KONTANTHJAELP_ACTIVITY_READY, d("1996-05-05"), d("2025-02-03"), (
        Offer(PRIVATE, d("2025-03-03"), d("2025-08-29"), decision="rejected"),
    )),
    Seed(None, G.DAGPENGE, d("1960-01-01"), d("2025-06-30"), (
        Offer(INTERNSHIP, d("2025-12-01"), d("2025-12-19"), end_registered=True),
    )),
    Seed("461", G.DAGPENGE, d("1988-08-08"), d("2025-07-07"), (Offer(PUBLIC, d("2025-12-15"), d("2026-06-12")),)),
]  # fmt: skip


def _events(seed: Seed) -> tuple[str, list[Event]]:
    """The events subsidy and benefits would publish for the seed's applications, in the order they would."""
    ref, events = citizen(), []
    for number, offer in enumerate(seed.offers, start=1):
        application = submitted(ref, offer.start, offer.end, scheme=offer.scheme)
        weeks = 4 * number
        events += [
            application,
            assessed(
                application,
                assessed_on=seed.since + timedelta(weeks=weeks),
                unemployed_weeks=weeks,
                target_group=seed.group,
                municipality_code=offer.municipality or seed.municipality,
                has_qualifying_education=seed.education,
                born=seed.born,
            ),
        ]
        if offer.decision == "rejected":
            events.append(rejected(application))
            continue
        placement = confirmed(application)
        events.append(placement)
        if offer.extended_to:
            events.append(extended(placement, offer.end, offer.extended_to))
        if offer.ended_early:
            events.append(ended(placement, offer.ended_early, early=True))
        if offer.end_registered:
            events.append(ended(placement, offer.end, early=False))
        if offer.decision == "withdrawn":
            events.append(withdrawn(placement))
    return ref, events


def _placements(seed: Seed) -> list[tuple[str | None, Scheme, date, date]]:
    """(municipality, scheme, start, last day) of each placement that ran or runs."""
    return [
        (offer.municipality or seed.municipality, offer.scheme, offer.start, _last_day(offer))
        for offer in seed.offers
        if offer.decision == "confirmed"
    ]


def _last_day(offer: Offer) -> date:
    return offer.ended_early or offer.extended_to or offer.end


def _overdue_days(seed: Seed, on: date) -> int | None:
    """Days overdue on `on`; None when no deadline covers the citizen (6 months for dagpenge; a continuous
    right and duty from the first day for the young on social assistance without a qualifying education)."""
    age = seed.since.year - seed.born.year - ((seed.since.month, seed.since.day) < (seed.born.month, seed.born.day))
    social_assistance = {G.KONTANTHJAELP_JOB_READY, G.KONTANTHJAELP_ACTIVITY_READY,
                         G.UDDANNELSESHJAELP_EDUCATION_READY, G.UDDANNELSESHJAELP_ACTIVITY_READY}  # fmt: skip
    started = [(start, last) for _, _, start, last in _placements(seed) if start <= on]
    if seed.group is G.DAGPENGE:
        month = seed.since.month + 6
        due = seed.since.replace(year=seed.since.year + (month - 1) // 12, month=(month - 1) % 12 + 1)
        next_due = None if started else due
    elif seed.group in social_assistance and age < 30 and not seed.education:
        next_due = max([seed.since] + [last + timedelta(days=1) for _, last in started])
    else:
        return None
    return max(0, (on - next_due).days) if next_due else 0


def _expected(seeds: list[Seed]) -> list[dict[str, Any]]:
    numbers: dict[str | None, dict[str | None, dict[str, Any]]] = defaultdict(dict)

    def count(municipality: str | None, group: str) -> list[dict[str, Any]]:
        for key in ("*", group):
            numbers[municipality].setdefault(key, {
                "active_by_scheme": {s.value: 0 for s in Scheme}, "started_by_month": dict.fromkeys(MONTHS, 0),
                "ended_by_month": dict.fromkeys(MONTHS, 0), "days": [], "citizens_with_deadline": 0, "overdue": 0,
            })  # fmt: skip
        return [numbers[municipality]["*"], numbers[municipality][group]]

    for seed in seeds:
        for municipality, scheme, start, last in _placements(seed):
            if start <= TO <= last:
                for n in count(municipality, seed.group.value):
                    n["active_by_scheme"][scheme.value] += 1
            if FROM <= start <= TO:
                for n in count(municipality, seed.group.value):
                    n["started_by_month"][f"{start:%Y-%m}"] += 1
            if FROM <= last <= TO:
                for n in count(municipality, seed.group.value):
                    n["ended_by_month"][f"{last:%Y-%m}"] += 1
                    n["days"].append((last - start).days + 1)
        overdue = _overdue_days(seed, TO)
        if overdue is not None:
            latest = seed.offers[-1].municipality or seed.municipality
            for n in count(latest, seed.group.value):
                n["citizens_with_deadline"] += 1
                n["overdue"] += overdue > 0
    return [
        {
            "municipality_code": municipality,
            "total": _shown(groups["*"]),
            "by_target_group": [{"target_group": g, **_shown(n)} for g, n in sorted(groups.items()) if g != "*"],
        }
        for municipality, groups in sorted(numbers.items(), key=lambda item: (item[0] is None, item[0] or ""))
    ]


def _shown(n: dict[str, Any]) -> dict[str, Any]:
    days, citizens = n["days"], n["citizens_with_deadline"]
    return {
        "active_by_scheme": n["active_by_scheme"],
        "started_by_month": n["started_by_month"],
        "ended_by_month": n["ended_by_month"],
        "average_duration_days": round(sum(days) / len(days), 1) if days else None,
        "citizens_with_deadline": citizens,
        "overdue": n["overdue"],
        "share_overdue": round(n["overdue"] / citizens, 4) if citizens else None,
    }


async def test_statistics_over_a_seeded_data_set_match_the_numbers_computed_from_the_seed(
    activation: Activation, callers: Callers
) -> None:
    seeded = [_events(seed) for seed in SEEDS]
    events = [event for _, citizen_events in seeded for event in citizen_events]
    await activation.publish(*events)
    await activation.wait_handled(len(events))
    expected = _expected(SEEDS)

    window = {"from": FROM.isoformat(), "to": TO.isoformat()}
    answer = await activation.http.get("/v1/statistics", params=window)
    aarhus = await activation.http.get("/v1/statistics", params={"municipality": "751", **window})

    assert answer.status_code == 200
    assert answer.json() == {"from": "2025-01-01", "to": "2025-12-31", "municipalities": expected}
    assert [m["municipality_code"] for m in expected] == ["101", "461", "751", None]
    assert aarhus.json()["municipalities"] == [m for m in expected if m["municipality_code"] == "751"]

    overdue = await activation.http.get("/v1/overdue", params={"on": TO.isoformat()})
    late = {ref: _overdue_days(seed, TO) for (ref, _), seed in zip(seeded, SEEDS, strict=True)}
    assert {c["citizen_ref"]: c["overdue_days"] for c in overdue.json()["citizens"]} == {
        ref: days for ref, days in late.items() if days
    }
    assert [c["overdue_days"] for c in overdue.json()["citizens"]] == sorted(d for d in late.values() if d)[::-1]
    assert overdue.json()["next_cursor"] is None and "link" not in overdue.headers
    paged, url, pages = [], f"/v1/overdue?on={TO.isoformat()}&limit=2", 0
    while url:
        answer = await activation.http.get(url)
        paged, pages = paged + answer.json()["citizens"], pages + 1
        url = answer.headers["link"].split(">")[0].removeprefix("<") if answer.json()["next_cursor"] else ""
    assert pages > 1 and paged == overdue.json()["citizens"], "every overdue citizen once, in order, by the Link"
    in_aarhus = await activation.http.get("/v1/overdue", params={"on": TO.isoformat(), "municipality": "751"})
    assert [(c["municipality_code"], c["overdue_days"]) for c in in_aarhus.json()["citizens"]] == [("751", 46)]
    broken = await activation.http.get("/v1/overdue", params={"on": TO.isoformat(), "cursor": "WzEsMiwzXQ"})
    assert (broken.status_code, broken.json()["code"]) == (400, "cursor_invalid")

    async with activation.client(callers.manager("751")) as manager, activation.client(callers.caseworker("751")) as cw:
        own = await manager.get("/v1/statistics", params=window)
        other = await manager.get("/v1/statistics", params={"municipality": "101", **window})
        own_overdue = await cw.get("/v1/overdue", params={"on": TO.isoformat()})
        other_overdue = await cw.get("/v1/overdue", params={"on": TO.isoformat(), "municipality": "101"})
    async with activation.client() as anonymous, activation.client(callers.employer("12345678")) as employer:
        refused = [
            await client.get(path, params=window)
            for client in (anonymous, employer)
            for path in ("/v1/statistics", "/v1/overdue")
        ]
    assert own.json() == aarhus.json()
    assert (other.status_code, other.json()["code"]) == (403, "municipality_not_yours")
    assert own_overdue.json() == in_aarhus.json()
    assert (other_overdue.status_code, other_overdue.json()["code"]) == (403, "municipality_not_yours")
    assert [response.status_code for response in refused] == [401, 401, 403, 403]


async def test_a_statistics_window_that_ends_before_it_starts_is_a_problem(activation: Activation) -> None:
    answer = await activation.http.get("/v1/statistics", params={"from": "2025-12-31", "to": "2025-01-01"})

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Invalid statistics window"


async def test_an_unknown_citizen_has_no_plan(activation: Activation) -> None:
    answer = await activation.http.get(f"/v1/citizens/{citizen()}/plan")

    assert (answer.status_code, answer.headers["content-type"]) == (404, "application/problem+json")
