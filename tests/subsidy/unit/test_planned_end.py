"""A placement past its planned end is completed by the clock: on the day after its last day, not before."""

from datetime import UTC, datetime, time, timedelta

import pytest

from services.subsidy.domain import ChangeRefused, State, TransitionNotAllowed
from tests.subsidy.factories import Employer
from tests.subsidy.unit.test_domain import _in_state


def _at(day) -> datetime:
    return datetime.combine(day, time(0, 5), UTC)


def test_a_confirmed_placement_is_completed_the_day_after_its_last_day(employer: Employer) -> None:
    application = _in_state(employer, State.CONFIRMED)
    last_day = application.terms.ends_on

    application.complete(_at(last_day + timedelta(days=1)))

    assert (application.state, application.last_day) == (State.ENDED, last_day)
    assert application.changes[-1].action == "completed" and application.changes[-1].actor == "timer"


def test_a_placement_is_not_completed_on_its_last_day(employer: Employer) -> None:
    application = _in_state(employer, State.CONFIRMED)

    with pytest.raises(ChangeRefused):
        application.complete(_at(application.terms.ends_on))


def test_an_ended_placement_is_not_completed_again(employer: Employer) -> None:
    application = _in_state(employer, State.ENDED)

    with pytest.raises(TransitionNotAllowed):
        application.complete(_at(application.terms.ends_on + timedelta(days=1)))
