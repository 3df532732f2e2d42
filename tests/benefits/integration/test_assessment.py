"""Assessment on real Kafka and PostgreSQL: an application naming a citizen is answered with CitizenAssessed."""

from datetime import date

from contracts.benefits import ASSESSMENTS, CitizenAssessed
from contracts.common import Scheme
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime
from jobbro.testing import publish, read_events
from services.benefits.handlers import Context
from tests.benefits.events import application_submitted, application_submitted_v1
from tests.benefits.factories import import_row, random_cpr
from tests.benefits.integration.conftest import register


async def test_assesses_registered_and_unknown_citizens_of_applications_by_reference_or_v1_cpr_number(
    service: Runtime, ctx: Context, kafka: KafkaAccess, topic_prefix: str
) -> None:
    long_unemployed = import_row(unemployed_since="2025-09-01", qualifying_education=False, municipality="751")
    single_parent = import_row(unemployed_since="2026-03-01", single_parent=True)
    recently_unemployed = import_row(unemployed_since="2026-03-01")
    await register(service.pool, ctx, long_unemployed, single_parent, recently_unemployed)
    applications = [
        application_submitted(long_unemployed["cpr"], Scheme.WAGE_SUBSIDY_PRIVATE, date(2026, 4, 6), date(2026, 10, 5)),
        application_submitted(single_parent["cpr"], Scheme.WAGE_SUBSIDY_PRIVATE, date(2026, 4, 6), date(2026, 10, 5)),
        application_submitted_v1(  # published before v2, still read from the topic
            recently_unemployed["cpr"], Scheme.WAGE_SUBSIDY_PUBLIC, date(2026, 4, 6), date(2026, 7, 5)
        ),
        application_submitted(random_cpr(), Scheme.INTERNSHIP, date(2026, 4, 6), date(2026, 5, 1)),
    ]

    await publish(kafka, topic_prefix, *applications)

    found = await read_events(kafka, topic_prefix + ASSESSMENTS, expect=4)
    by_application = {event.application_id: event for _, event in found if isinstance(event, CitizenAssessed)}
    assert len(found) == len(by_application) == 4
    first, second, third, unknown = (by_application[a.application_id] for a in applications)

    assert (first.eligible, first.target_group, first.benefit, first.unemployed_weeks) == (
        True,
        "dagpenge",
        "dagpenge",
        31,
    )
    assert (first.municipality_code, first.has_qualifying_education, first.max_duration_weeks) == ("751", False, 26)
    assert first.unemployed_since == date(2025, 9, 1)  # the registry's date, not 31 whole weeks back (D1)
    assert unknown.unemployed_since is None
    assert (first.birth_date, third.birth_date, unknown.birth_date) == (date(1990, 5, 17), date(1990, 5, 17), None)
    assert [(r.rule, r.passed, r.rule_set_version) for r in first.rule_results] == [
        ("prior_unemployment", True, "prior-unemployment-2018.1"),
        ("max_duration", True, "wage-subsidy-duration-2018.1"),
    ]
    assert second.eligible and "from day 1: single parent" in second.rule_results[0].reason
    assert not third.eligible and [r.passed for r in third.rule_results] == [False, True]
    assert third.citizen_ref == applications[2].citizen_ref
    assert (unknown.eligible, unknown.target_group, unknown.benefit, unknown.max_duration_weeks) == (
        False,
        "unregistered",
        "none",
        None,
    )
    assert [(r.rule, r.passed) for r in unknown.rule_results] == [("citizen_unknown", False)]
