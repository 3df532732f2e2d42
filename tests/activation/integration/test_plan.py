"""The citizen's plan on real Kafka and PostgreSQL: recorded once, updated, cancelled, checked for conflicts."""

from dataclasses import replace
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from contracts.activation import ActivationChecked, ActivationEnded, ActivationOutcome, ActivationRecorded, ConflictKind
from contracts.benefits import CitizenErased
from contracts.common import Scheme
from contracts.envelope import encode
from contracts.subsidy import TOPIC as SUBSIDY_TOPIC
from jobbro.testing import produce, read_topic
from services.activation.domain import activation_id_for
from tests.activation.events import (
    as_v1,
    assessed,
    citizen,
    confirmed,
    ended,
    extended,
    hours_changed,
    rejected,
    submitted,
    withdrawn,
)
from tests.activation.integration.conftest import Activation
from tests.identity import Callers

BORN = date(1984, 6, 1)


async def test_a_confirmed_placement_delivered_twice_is_recorded_once(activation: Activation) -> None:
    ref = citizen()
    application = submitted(ref, date(2026, 3, 2), date(2026, 5, 29), scheme=Scheme.WAGE_SUBSIDY_PRIVATE)
    confirmation = confirmed(application)
    _, record = encode(confirmation, source="/jobbro/subsidy")
    record = replace(record, topic=activation.settings.topic_prefix + record.topic)

    await activation.publish(application)
    await produce(activation.settings.kafka, record, record)  # one event delivered twice
    await activation.publish(confirmation)  # the same placement confirmed again, as a new event
    await activation.wait_handled(3)

    checked, recorded = await activation.published(expect=2)
    assert isinstance(checked, ActivationChecked) and checked.conflicts == ()
    assert isinstance(recorded, ActivationRecorded)
    assert (recorded.activation_id, recorded.period, recorded.employer_cvr) == (
        activation_id_for(application.application_id), application.period, "12345678",
    )  # fmt: skip
    query = "SELECT count(*) FROM plan_entries WHERE application_id = $1"
    assert await activation.fetchval(query, application.application_id) == 1
    plan = (await activation.http.get(f"/v1/citizens/{ref}/plan")).json()
    assert [(e["status"], e["scheme"], e["period"]) for e in plan["entries"]] == [
        ("recorded", "wage_subsidy_private", {"start": "2026-03-02", "end": "2026-05-29"})
    ]


async def test_the_birth_date_comes_from_the_registrys_assessment_or_a_v1_submissions_cpr_number(
    activation: Activation,
) -> None:
    by_reference, by_cpr = citizen(), citizen()
    application = submitted(by_reference, date(2026, 3, 2), date(2026, 5, 29))
    assessment = assessed(application, assessed_on=date(2026, 2, 20), unemployed_weeks=10, born=BORN)
    old = as_v1(submitted(by_cpr, date(2026, 3, 2), date(2026, 5, 29)), BORN)

    await activation.publish(application, assessment, old)
    await activation.wait_handled(3)

    checked = await activation.published(expect=2)
    assert all(isinstance(event, ActivationChecked) for event in checked)
    assert {event.citizen_ref for event in checked} == {by_reference, by_cpr}
    query = "SELECT birth_date FROM citizens WHERE citizen_ref = $1"
    assert [await activation.fetchval(query, ref) for ref in (by_reference, by_cpr)] == [BORN, BORN]


async def test_an_erased_citizens_birth_date_is_forgotten_and_their_plan_stays(activation: Activation) -> None:
    ref = citizen()
    application = submitted(ref, date(2026, 3, 2), date(2026, 5, 29))
    assessment = assessed(application, assessed_on=date(2026, 2, 20), unemployed_weeks=10, born=BORN)
    erasure = CitizenErased(erasure_id=uuid4(), citizen_ref=ref, erased_at=datetime.now(UTC))

    await activation.publish(application, assessment, confirmed(application), erasure)
    await activation.wait_handled(4)

    assert await activation.fetchval("SELECT birth_date FROM citizens WHERE citizen_ref = $1", ref) is None
    assert await activation.fetchval("SELECT count(*) FROM plan_entries WHERE citizen_ref = $1", ref) == 1


async def test_an_extension_new_hours_and_an_early_end_update_the_entry(activation: Activation) -> None:
    ref = citizen()
    application = submitted(ref, date(2026, 3, 2), date(2026, 5, 29))
    placement = confirmed(application)

    await activation.publish(
        application,
        placement,
        extended(placement, date(2026, 5, 29), date(2026, 8, 28)),
        hours_changed(placement, date(2026, 4, 13), "20.00"),
        ended(placement, date(2026, 7, 10), early=True),
    )
    await activation.wait_handled(5)

    events = await activation.published(expect=5)
    assert [type(e) for e in events] == [
        ActivationChecked, ActivationRecorded, ActivationRecorded, ActivationRecorded, ActivationEnded,
    ]  # fmt: skip
    restated = events[3]
    assert isinstance(restated, ActivationRecorded)
    assert restated.period.end == date(2026, 8, 28)
    assert [(s.from_date, str(s.hours_per_week)) for s in restated.weekly_hours] == [
        (date(2026, 3, 2), "30.00"), (date(2026, 4, 13), "20.00"),
    ]  # fmt: skip
    end = events[4]
    assert isinstance(end, ActivationEnded)
    assert (end.last_day, end.outcome) == (date(2026, 7, 10), ActivationOutcome.ENDED_EARLY)
    (entry,) = (await activation.http.get(f"/v1/citizens/{ref}/plan")).json()["entries"]
    assert (entry["status"], entry["outcome"], entry["last_day"], entry["period"]["end"]) == (
        "ended", "ended_early", "2026-07-10", "2026-08-28",
    )  # fmt: skip
    assert entry["weekly_hours"] == [
        {"from_date": "2026-03-02", "hours_per_week": "30.00"},
        {"from_date": "2026-04-13", "hours_per_week": "20.00"},
    ]


async def test_updates_that_arrive_before_the_confirmation_are_applied_when_it_arrives(activation: Activation) -> None:
    ref = citizen()
    application = submitted(ref, date(2026, 3, 2), date(2026, 5, 29))
    placement = confirmed(application)

    await activation.publish(
        extended(placement, date(2026, 5, 29), date(2026, 6, 26)),
        ended(placement, date(2026, 6, 5), early=True),
        placement,  # the application itself was never seen
    )
    await activation.wait_handled(3)

    events = await activation.published(expect=3)
    assert [type(e) for e in events] == [ActivationRecorded, ActivationRecorded, ActivationEnded]
    assert [e.period.end for e in events if isinstance(e, ActivationRecorded)] == [date(2026, 5, 29), date(2026, 6, 26)]
    assert await activation.fetchval("SELECT count(*) FROM parked_updates") == 0
    dlq = await read_topic(
        activation.settings.kafka, activation.settings.topic_prefix + SUBSIDY_TOPIC + ".dlq", expect=0
    )
    assert dlq == []


async def test_a_placement_withdrawn_before_it_began_is_cancelled(activation: Activation) -> None:
    ref = citizen()
    application = submitted(ref, date(2026, 3, 2), date(2026, 5, 29))
    placement = confirmed(application)

    await activation.publish(application, placement, withdrawn(placement))
    await activation.wait_handled(3)

    *_, end = await activation.published(expect=3)
    assert isinstance(end, ActivationEnded)
    assert (end.outcome, end.last_day) == (ActivationOutcome.CANCELLED, date(2026, 3, 1))
    (entry,) = (await activation.http.get(f"/v1/citizens/{ref}/plan")).json()["entries"]
    assert entry["status"] == "cancelled"


async def test_an_extension_after_the_end_is_dead_lettered_with_the_reason(activation: Activation) -> None:
    ref = citizen()
    application = submitted(ref, date(2026, 3, 2), date(2026, 5, 29))
    placement = confirmed(application)

    await activation.publish(
        application, placement, ended(placement, date(2026, 5, 29), early=False),
        extended(placement, date(2026, 5, 29), date(2026, 6, 26)),
    )  # fmt: skip

    (dead,) = await read_topic(
        activation.settings.kafka, activation.settings.topic_prefix + SUBSIDY_TOPIC + ".dlq", expect=1
    )
    headers = {name: value.decode() for name, value in dead.headers}
    assert headers["ce_type"] == "dk.jobbro.subsidy.placement-extended.v1"
    assert headers["dlq_error_class"] == "EntryClosed"
    assert "has ended (completed, last day 2026-05-29)" in headers["dlq_error_message"]


async def test_an_application_is_checked_against_the_plan_and_the_applications_still_pending(
    activation: Activation,
) -> None:
    ref = citizen()
    in_plan = submitted(ref, date(2026, 3, 2), date(2026, 3, 27))
    pending = submitted(ref, date(2026, 4, 1), date(2026, 4, 30), scheme=Scheme.WAGE_SUBSIDY_PUBLIC)
    await activation.publish(in_plan, confirmed(in_plan), pending)
    await activation.wait_handled(3)

    overlapping = submitted(ref, date(2026, 3, 27), date(2026, 4, 10))
    await activation.publish(overlapping)
    await activation.wait_handled(4)
    await activation.publish(rejected(pending), withdrawn(overlapping))
    await activation.wait_handled(6)
    touching_after_both_closed = submitted(ref, date(2026, 3, 28), date(2026, 4, 17))
    await activation.publish(touching_after_both_closed)
    await activation.wait_handled(7)

    checks = {e.application_id: e for e in await activation.published(expect=5) if isinstance(e, ActivationChecked)}
    assert _kinds(checks[overlapping.application_id]) == [
        (ConflictKind.OVERLAPPING_PERIOD, in_plan.application_id),
        (ConflictKind.OVERLAPPING_APPLICATION, pending.application_id),
    ]
    assert checks[overlapping.application_id].conflicts[0].description == (
        "Virksomhedspraktik 2026-03-02 til 2026-03-27 overlapper"
    )
    assert _kinds(checks[touching_after_both_closed.application_id]) == []
    assert {check.rule_set_version for check in checks.values()} == {"plan-checks-2018.1"}


def _kinds(check: ActivationChecked) -> list[tuple[ConflictKind, UUID | None]]:
    return [(conflict.kind, conflict.application_id) for conflict in check.conflicts]


async def test_a_citizens_plan_is_read_by_caseworkers_of_their_municipality_and_auditors_only(
    activation: Activation, callers: Callers
) -> None:
    ref = citizen()
    application = submitted(ref, date(2026, 3, 2), date(2026, 3, 27))
    events = (
        application,
        assessed(application, assessed_on=date(2026, 2, 20), unemployed_weeks=10, municipality_code="751"),
    )
    await activation.publish(*events, confirmed(application))
    await activation.wait_handled(3)
    url = f"/v1/citizens/{ref}/plan"

    async with (
        activation.client(callers.caseworker("751")) as own,
        activation.client(callers.caseworker("101")) as other,
    ):
        seen, hidden, unknown = (
            await own.get(url),
            await other.get(url),
            await other.get(f"/v1/citizens/{citizen()}/plan"),
        )
    async with activation.client() as anonymous, activation.client(callers.manager("751")) as manager:
        refused = [await anonymous.get(url), await manager.get(url)]

    assert (seen.status_code, seen.json()["municipality_code"]) == (200, "751")
    assert (await activation.http.get(url)).json() == seen.json()
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    assert hidden.json()["detail"] == "There is no such citizen."
    assert unknown.status_code == 404
    assert [response.status_code for response in refused] == [401, 403]


async def test_the_offer_deadline_counts_from_the_registrys_unemployment_start(activation: Activation) -> None:
    """D1: 6 months from 1 March is 1 September; counted back in whole weeks from 5 March it came out 5 September."""
    ref = citizen()
    application = submitted(ref, date(2026, 3, 5), date(2026, 4, 1))
    answer = assessed(
        application, assessed_on=date(2026, 3, 5), unemployed_weeks=0, unemployed_since=date(2026, 3, 1), born=BORN
    )
    await activation.publish(application, answer)
    await activation.wait_handled(2)

    plan = (await activation.http.get(f"/v1/citizens/{ref}/plan")).json()

    assert plan["timeliness"]["due_on"] == "2026-09-01"


async def test_the_plan_of_an_unknown_citizen_asked_for_by_cpr_number_does_not_repeat_it(
    activation: Activation,
) -> None:
    refused = await activation.http.get("/v1/citizens/010190-1234/plan")

    assert refused.status_code == 404 and refused.json()["code"] == "citizen_not_found"
    assert "010190" not in refused.text
