"""The application page of a placement whose change waits for a caseworker: the employer reads that it waits, the
caseworker is offered the decision on the change (rendered from the API's own view of such an application)."""

from datetime import timedelta
from typing import Any

import pytest

from services.portal import labels
from services.portal.app import WAITING_FOR_CASEWORKER, _environment
from services.portal.i18n import LANGUAGES, NAMES, Catalogs
from services.subsidy.domain import Actor, Outcome, PendingChange, Role, RuleOutcome, State
from services.subsidy.schemas import ApplicationView
from tests.subsidy.factories import Employer, make_pki
from tests.subsidy.unit.conftest import NOW
from tests.subsidy.unit.test_domain import _in_state


@pytest.fixture(scope="module")
def employer(tmp_path_factory: pytest.TempPathFactory) -> Employer:
    return make_pki(tmp_path_factory.mktemp("pki")).employer()


@pytest.fixture
def waiting(employer: Employer) -> dict[str, Any]:
    """A running placement whose extension a rule referred, as the subsidy API answers it."""
    application = _in_state(employer, State.CONFIRMED)
    change = application.extended(application.terms.ends_on + timedelta(weeks=1))
    question = RuleOutcome("ratio", Outcome.NEEDS_JUDGEMENT, "the unit is full today", "ratio-2018")
    application.refer_change(
        PendingChange(change.kind, change.terms, (question,), change.effective_from), Actor(Role.EMPLOYER, "e"), NOW
    )
    view = ApplicationView.of(application, list(application.changes), [], with_inputs=True, version=3)
    return view.model_dump(mode="json")


def _page(application: dict[str, Any], *, caseworker: bool) -> str:
    catalogs = Catalogs()
    catalogs.use("da")
    context = {
        "session": None,
        "csrf": "token",
        "language": "da",
        "languages": LANGUAGES,
        "language_names": NAMES,
        "path": "/",
        "labels": labels,
        "waiting_for_caseworker": WAITING_FOR_CASEWORKER,
        "errors": {},
        "entered": {},
    }
    return (
        _environment(catalogs)
        .get_template("application.html")
        .render(context | {"application": application, "caseworker": caseworker})
    )


def test_the_employer_reads_that_the_extension_waits_for_the_caseworker(waiting: dict[str, Any]) -> None:
    page = _page(waiting, caseworker=False)
    assert "En ændring venter på sagsbehandleren" in page
    assert "Indtil da fortsætter forløbet på de nuværende vilkår." in page
    assert "/decision" not in page


def test_the_caseworker_is_offered_the_decision_on_the_change(waiting: dict[str, Any]) -> None:
    page = _page(waiting, caseworker=True)
    assert "Godkend eller afvis ændringen" in page
    assert f'action="/caseworker/applications/{waiting["id"]}/decision"' in page


def test_a_running_placement_without_a_change_offers_the_caseworker_no_decision(employer: Employer) -> None:
    application = _in_state(employer, State.CONFIRMED)
    view = ApplicationView.of(application, [], [], with_inputs=True, version=1).model_dump(mode="json")
    assert "/decision" not in _page(view, caseworker=True)
