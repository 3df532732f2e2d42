"""Who is told by which channel, the dedup keys, the retry policy and what integrators may subscribe to."""

from datetime import date
from uuid import uuid4

import pytest

from contracts import notify as published
from contracts.benefits import PaymentInstructionIssuedV2
from contracts.catalog import CPR_ALLOWED, EVENT_TYPES
from contracts.common import HoursStep
from contracts.examples import example
from contracts.subsidy import (
    ApplicationApproved,
    PlacementHoursChanged,
    PositionApplicationSubmitted,
    PositionDecided,
    PositionWithdrawn,
    RepresentativeApprovalRequested,
)
from services.notify import notices
from services.notify.app import create_policy
from services.notify.domain import (
    Audience,
    Channel,
    Recipient,
    RetryPolicy,
    Role,
    SubscriptionRefused,
    check_event_types,
    webhook_dedup_key,
)
from services.notify.settings import NotifySettings
from tests.notify.unit.test_templates import CASEWORKER


def _audience(employer_email: str | None) -> Audience:
    return Audience(
        application_id=uuid4(),
        scheme="internship",
        position_title="Lagermedarbejder",
        start=date(2026, 3, 2),
        end=date(2026, 3, 27),
        citizen_ref="c-0000000000000001",
        citizen_language="en",
        employer_cvr="87654321",
        employer_name="Lager A/S",
        employer_email=employer_email,
        employer_language="da",
    )


def test_an_employer_with_an_address_is_mailed_in_their_language() -> None:
    employer = _audience("hr@lager.example").employer()
    assert employer == Recipient(Role.EMPLOYER, Channel.EMAIL, "hr@lager.example", "da")


def test_an_employer_without_an_address_gets_digital_post_by_cvr() -> None:
    employer = _audience(None).employer()
    assert (employer.channel, employer.address) == (Channel.DIGITAL_POST, "87654321")


def test_citizens_get_digital_post_by_their_reference_never_a_cpr_number() -> None:
    citizen = _audience(None).citizen()
    assert (citizen.channel, citizen.address, citizen.language) == (Channel.DIGITAL_POST, "c-0000000000000001", "en")


def test_an_approval_tells_employer_and_citizen_each_once_per_application_and_channel() -> None:
    audience = _audience("hr@lager.example")
    event = example(ApplicationApproved).model_copy(update={"application_id": audience.application_id})
    given = notices.RULES[ApplicationApproved](event, audience, CASEWORKER)
    assert [n.dedup_key for n in given] == [
        f"application-approved:{audience.application_id}:employer:email",
        f"application-approved:{audience.application_id}:citizen:digital_post",
    ]
    assert [n.template for n in given] == ["application-approved.employer.v1", "application-approved.citizen.v1"]
    assert given == notices.RULES[ApplicationApproved](event, audience, CASEWORKER)  # the same event: the same keys


def test_an_hours_change_is_told_again_only_when_the_change_differs() -> None:
    audience = _audience(None)
    event = example(PlacementHoursChanged).model_copy(update={"application_id": audience.application_id})
    corrected = event.model_copy(update={"weekly_hours": (HoursStep(from_date=date(2026, 4, 13), hours_per_week=30),)})

    def key(e: PlacementHoursChanged) -> str:
        return notices.RULES[PlacementHoursChanged](e, audience, CASEWORKER)[0].dedup_key

    assert key(event) == key(event.model_copy())
    assert key(event) != key(corrected)


def test_a_webhook_delivery_is_keyed_by_event_and_subscription() -> None:
    event_id, subscription_id = uuid4(), uuid4()
    assert webhook_dedup_key(event_id, subscription_id) == f"event:{event_id}:{subscription_id}:webhook"


def test_the_backoff_doubles_up_to_its_ceiling_and_stops_after_the_last_attempt() -> None:
    policy = RetryPolicy(base_seconds=10, max_seconds=30, give_up_seconds=3600, probe_seconds=60, max_attempts=5)
    assert [policy.next_delay(n, 0, permanent=False, chance=0.5) for n in range(1, 6)] == [10, 20, 30, 30, None]
    assert policy.next_delay(1, 0, permanent=True, chance=0.5) is None


def test_the_default_backoff_retries_a_days_outage_hourly_after_an_hour_and_a_half_and_then_gives_up() -> None:
    settings = NotifySettings(pg_dsn="postgresql://unused", kafka_bootstrap="unused:9092")
    policy = create_policy(settings)
    waits, failing_for = [], 0.0
    while (wait := policy.next_delay(len(waits) + 1, failing_for, permanent=False, chance=0.0)) is not None:
        waits.append(wait)
        failing_for += wait
    assert waits[:4] == [5, 10, 20, 40] and max(waits) == waits[-1] == 3600
    assert sum(waits[:10]) < 3 * 3600 and len(waits) < 40  # minutes to the hourly pace; no flood of attempts
    assert 24 * 3600 <= failing_for < 25 * 3600


def test_jitter_takes_up_to_its_part_off_a_wait_and_no_more() -> None:
    policy = RetryPolicy(base_seconds=100, max_seconds=1000, give_up_seconds=3600, probe_seconds=60, jitter=0.2)
    assert [policy.next_delay(1, 0, permanent=False, chance=c) for c in (0.0, 0.5, 1.0)] == [100, 90, 80]


def test_a_delivery_is_retried_until_the_time_limit_after_its_first_failure_however_few_its_attempts() -> None:
    policy = RetryPolicy(base_seconds=5, max_seconds=3600, give_up_seconds=86400, probe_seconds=3600)
    assert policy.next_delay(3, 86399, permanent=False, chance=0) == 20
    assert policy.next_delay(3, 86400, permanent=False, chance=0) is None
    assert policy.next_delay(10_000, 0, permanent=False, chance=0) == 3600  # no overflow after many attempts


def test_roles_and_channels_are_published_values() -> None:
    assert {r.value for r in Role} <= {r.value for r in published.RecipientRole}
    assert {c.value for c in Channel} <= {c.value for c in published.Channel}


def test_integrators_are_never_offered_cpr_numbers_or_the_representatives_link() -> None:
    assert notices.FORWARDED.isdisjoint(CPR_ALLOWED)
    assert RepresentativeApprovalRequested.type not in notices.FORWARDED
    assert ApplicationApproved.type in notices.FORWARDED
    assert {PositionApplicationSubmitted.type, PositionDecided.type, PositionWithdrawn.type} <= notices.FORWARDED
    assert "dk.jobbro.subsidy.application-submitted.v2" in notices.FORWARDED
    assert PaymentInstructionIssuedV2.type not in notices.FORWARDED  # a sealed CPR number is for the back-office


def test_an_employer_is_told_of_a_v2_payment_and_a_citizen_payee_is_not() -> None:
    employer = example(PaymentInstructionIssuedV2)
    citizen = employer.model_copy(
        update={"payee_kind": "citizen", "payee_cvr": None, "payee_ref": "c-1", "payee_cpr_sealed": "AQID"}
    )
    rule = notices.RULES[PaymentInstructionIssuedV2]
    assert [notice.occasion for notice in rule(employer, None, CASEWORKER)] == ["payment-issued"]
    assert rule(citizen, None, CASEWORKER) == []


def test_a_subscription_to_event_types_not_offered_is_refused_naming_them() -> None:
    submitted = "dk.jobbro.subsidy.application-submitted.v1"
    with pytest.raises(SubscriptionRefused, match=f"not offered to webhooks: {submitted}"):
        check_event_types([submitted], notices.FORWARDED, frozenset(EVENT_TYPES))
    check_event_types([ApplicationApproved.type], notices.FORWARDED, frozenset(EVENT_TYPES))


def test_a_refusal_counts_event_types_outside_the_catalog_without_repeating_them() -> None:
    with pytest.raises(SubscriptionRefused) as refused:
        check_event_types(["0101901234", "dk.jobbro.nothing.v1"], notices.FORWARDED, frozenset(EVENT_TYPES))
    assert str(refused.value) == "event types not offered to webhooks: 2 not in the catalog"
