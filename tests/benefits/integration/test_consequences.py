"""Benefit consequences of placements on real Kafka and PostgreSQL: each change is a BenefitAdjusted event."""

from datetime import date
from decimal import Decimal

from contracts.benefits import ADJUSTMENTS, BenefitAdjusted
from contracts.common import Scheme
from jobbro.kafka_access import KafkaAccess
from jobbro.runtime import Runtime
from jobbro.testing import publish, read_events
from services.benefits.domain import Placement
from services.benefits.handlers import Context
from tests.benefits.events import ended_early, extended, hours_changed, placement_confirmed
from tests.benefits.factories import import_row
from tests.benefits.integration.conftest import eventually, register


async def test_placements_keep_suspend_or_top_up_the_benefit_and_an_early_end_resumes_it(
    service: Runtime, ctx: Context, kafka: KafkaAccess, topic_prefix: str
) -> None:
    on_dagpenge, on_kontanthjaelp, in_internship = await register(
        service.pool,
        ctx,
        import_row(),
        import_row(benefit="kontanthjaelp", target_group="kontanthjaelp_job_ready", top_up_monthly_ore=300_000),
        import_row(benefit="kontanthjaelp", target_group="kontanthjaelp_activity_ready"),
    )
    wage_subsidy = placement_confirmed(on_dagpenge, Scheme.WAGE_SUBSIDY_PRIVATE, date(2026, 3, 2), date(2026, 5, 29))
    topped_up = placement_confirmed(on_kontanthjaelp, Scheme.WAGE_SUBSIDY_PUBLIC, date(2026, 3, 2), date(2026, 8, 31))
    internship = placement_confirmed(in_internship, Scheme.INTERNSHIP, date(2026, 3, 2), date(2026, 5, 29))
    unknown_citizen = placement_confirmed("c-ffffffffffffffff", Scheme.INTERNSHIP, date(2026, 3, 2), date(2026, 3, 27))

    await publish(
        kafka,
        topic_prefix,
        wage_subsidy,
        topped_up,
        internship,
        unknown_citizen,
        extended(wage_subsidy, date(2026, 6, 30)),
        hours_changed(wage_subsidy, date(2026, 4, 13), "30"),
        ended_early(topped_up, date(2026, 6, 12)),
        ended_early(internship, date(2026, 4, 10)),
        ended_early(wage_subsidy, date(2026, 6, 5)),
    )

    found = await read_events(kafka, topic_prefix + ADJUSTMENTS, expect=6)
    changes = [
        (e.citizen_ref, e.application_id, e.benefit, e.change, e.period.start, e.period.end)
        for _, e in found
        if isinstance(e, BenefitAdjusted)
    ]
    dagpenge_job, topped_job = wage_subsidy.application_id, topped_up.application_id
    assert sorted(changes) == sorted(
        [
            (on_dagpenge, dagpenge_job, "dagpenge", "suspended", date(2026, 3, 2), date(2026, 5, 29)),
            (on_dagpenge, dagpenge_job, "dagpenge", "suspended", date(2026, 5, 30), date(2026, 6, 30)),
            (on_dagpenge, dagpenge_job, "dagpenge", "resumed", date(2026, 6, 6), None),
            (on_kontanthjaelp, topped_job, "kontanthjaelp", "top_up_granted", date(2026, 3, 2), date(2026, 8, 31)),
            (on_kontanthjaelp, topped_job, "kontanthjaelp", "resumed", date(2026, 6, 13), None),
            (
                in_internship,
                internship.application_id,
                "kontanthjaelp",
                "continued",
                date(2026, 3, 2),
                date(2026, 5, 29),
            ),
        ]
    )
    per_citizen = [e.change for _, e in found if isinstance(e, BenefitAdjusted) and e.citizen_ref == on_dagpenge]
    assert per_citizen == ["suspended", "suspended", "resumed"]  # one citizen's changes stay in order

    async def placement_after_changes() -> Placement | None:
        async with service.unit_of_work() as uow:
            placement = await uow.store.placement_for_update(wage_subsidy.application_id)
        return placement if placement and placement.ended else None

    placement = await eventually(placement_after_changes)
    assert placement.period.end == date(2026, 6, 5)
    assert [(s.from_date, s.hours_per_week) for s in placement.hours] == [
        (date(2026, 3, 2), Decimal(37)),
        (date(2026, 4, 13), Decimal(30)),
    ]
