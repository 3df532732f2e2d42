"""One test suite for the `Plans` port, run against PostgreSQL (`PgPlans`) and the in-memory fake the handlers'
unit tests use: what the fake answers, the database answers too. A subclass gives the `plans` fixture."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

from services.activation.domain import ApplicationState, Outcome
from services.activation.store import Plans
from tests.activation.unit.plan import application, entry, march


def _citizen() -> str:
    return f"c-{uuid4().hex[:16]}"


class PlansContract:
    async def test_an_application_is_pending_until_closed_and_added_once(self, plans: Plans) -> None:
        citizen, applied = _citizen(), application(march(2), march(27))
        await plans.lock_plan(citizen)
        assert await plans.add_application(citizen, applied)
        assert not await plans.add_application(citizen, applied)
        assert await plans.pending_applications(citizen) == [applied]
        assert await plans.close_application(applied.application_id, ApplicationState.REJECTED)
        assert await plans.pending_applications(citizen) == []

    async def test_closing_an_unknown_application_says_so(self, plans: Plans) -> None:
        assert not await plans.close_application(uuid4(), ApplicationState.WITHDRAWN)

    async def test_another_citizens_applications_are_not_pending_for_this_one(self, plans: Plans) -> None:
        citizen, other = _citizen(), _citizen()
        await plans.lock_plan(citizen)
        await plans.lock_plan(other)
        await plans.add_application(other, application(march(2), march(27)))
        assert await plans.pending_applications(citizen) == []

    async def test_an_entry_is_added_once_and_listed_by_start(self, plans: Plans) -> None:
        citizen = _citizen()
        later = entry(march(16), march(27), citizen_ref=citizen)
        earlier = entry(march(2), march(13), citizen_ref=citizen)
        await plans.lock_plan(citizen)
        assert await plans.add_entry(later)
        assert await plans.add_entry(earlier)
        assert not await plans.add_entry(replace(earlier, planned_end=march(20)))
        assert await plans.plan_entries(citizen) == [earlier, later]

    async def test_an_entry_changes_only_when_saved(self, plans: Plans) -> None:
        citizen = _citizen()
        placed = entry(march(2), march(27), citizen_ref=citizen)
        await plans.lock_plan(citizen)
        await plans.add_entry(placed)
        found = await plans.entry_for_update(placed.application_id)
        assert found == placed and found is not None
        found.planned_end = date(2026, 4, 10)
        assert await plans.entry_for_update(placed.application_id) == placed
        ended = replace(found, last_day=march(20), outcome=Outcome.ENDED_EARLY)
        await plans.save_entry(ended)
        assert await plans.entry_for_update(placed.application_id) == ended

    async def test_no_entry_for_an_unknown_placement(self, plans: Plans) -> None:
        assert await plans.entry_for_update(uuid4()) is None

    async def test_parked_updates_are_taken_once_oldest_first(self, plans: Plans) -> None:
        application_id = uuid4()
        await plans.park(application_id, "PlacementExtended", {"n": 1})
        await plans.park(application_id, "PlacementEnded", {"n": 2})
        assert await plans.take_parked(application_id) == [
            ("PlacementExtended", {"n": 1}),
            ("PlacementEnded", {"n": 2}),
        ]
        assert await plans.take_parked(application_id) == []
