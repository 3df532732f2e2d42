"""A plan entry follows its placement: extension, hours, end, withdrawal; and the facts taken from a CPR number."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.activation.domain import EntryClosed, HoursStep, Outcome, activation_id_for
from tests.activation.unit.plan import entry, march


def test_an_extension_moves_the_planned_end_once() -> None:
    planned = entry(march(2), march(27))

    assert planned.extend(date(2026, 4, 24)) is True
    assert planned.extend(date(2026, 4, 24)) is False
    assert (planned.planned_end, planned.period.end, planned.status) == (date(2026, 4, 24),) * 2 + ("recorded",)


def test_new_hours_replace_the_schedule_from_their_first_day_and_keep_the_earlier_steps() -> None:
    first, second = HoursStep(march(2), Decimal("10")), HoursStep(march(16), Decimal("20"))
    planned = entry(march(2), march(27), weekly_hours=(first, second))
    new = (HoursStep(march(9), Decimal("15")), HoursStep(march(23), Decimal("30")))

    assert planned.change_hours(march(9), new) is True
    assert planned.weekly_hours == (first, *new)
    assert planned.change_hours(march(9), new) is False


@pytest.mark.parametrize(
    ("last_day", "early", "outcome", "status"),
    [
        (march(27), False, Outcome.COMPLETED, "ended"),
        (march(13), True, Outcome.ENDED_EARLY, "ended"),
        (march(1), True, Outcome.CANCELLED, "cancelled"),  # ended before it began
    ],
)
def test_an_end_sets_the_last_day_and_outcome(last_day: date, early: bool, outcome: Outcome, status: str) -> None:
    planned = entry(march(2), march(27))

    assert planned.end(last_day, early=early) is True
    assert planned.end(last_day, early=early) is False
    assert (planned.last_day, planned.outcome, planned.status) == (last_day, outcome, status)
    assert planned.period.end == last_day


def test_a_withdrawn_placement_is_cancelled_with_no_days_in_it() -> None:
    planned = entry(march(2), march(27))

    assert planned.cancel() is True
    assert planned.cancel() is False
    assert (planned.last_day, planned.outcome) == (march(1), Outcome.CANCELLED)


def test_an_ended_entry_refuses_extension_new_hours_and_withdrawal() -> None:
    ended = entry(march(2), march(27))
    ended.end(march(13), early=True)

    with pytest.raises(EntryClosed, match="has ended"):
        ended.extend(date(2026, 4, 24))
    with pytest.raises(EntryClosed):
        ended.change_hours(march(9), (HoursStep(march(9), Decimal("15")),))
    with pytest.raises(EntryClosed):
        ended.cancel()


def test_a_cancelled_entry_cannot_end() -> None:
    cancelled = entry(march(2), march(27))
    cancelled.cancel()

    with pytest.raises(EntryClosed, match="cancelled"):
        cancelled.end(march(13), early=True)


def test_the_activation_id_is_derived_from_the_application_id() -> None:
    application_id = uuid4()

    assert activation_id_for(application_id) == activation_id_for(application_id) != activation_id_for(uuid4())
