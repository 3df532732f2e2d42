"""Unit-test fixtures: the repository's rule data, and applications built without I/O."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from rules import REPOSITORY_RULES_DIR, Rulebook, birth_date_from_cpr
from services.subsidy.domain import Actor, Application, Role
from services.subsidy.schemas import ApplicationForm
from tests.subsidy.factories import Employer, Pki, make_pki

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANSWER_TIMEOUT = timedelta(hours=1)
REPRESENTATIVE_DEADLINE = timedelta(days=14)


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return Rulebook.load(REPOSITORY_RULES_DIR)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def employer(pki: Pki) -> Employer:
    return pki.employer()


def submitted(form: dict[str, Any], now: datetime = NOW) -> Application:
    """An application as submitted by the employer the form names."""
    parsed = ApplicationForm.model_validate(form)
    assert parsed.citizen is not None
    by = Actor(Role.EMPLOYER, "signer", cvr=parsed.employer.cvr)
    return Application.submit(
        uuid4(),
        parsed.terms(),
        "c-0123456789abcdef",
        birth_date_from_cpr(parsed.citizen.cpr),
        by,
        now,
        representative_deadline=REPRESENTATIVE_DEADLINE,
        answer_timeout=ANSWER_TIMEOUT,
    )


def position(form: dict[str, Any], now: datetime = NOW) -> Application:
    """An application for a position (the form's citizen left out) as submitted by its employer."""
    parsed = ApplicationForm.model_validate({**form, "citizen": None})
    by = Actor(Role.EMPLOYER, "signer", cvr=parsed.employer.cvr)
    return Application.submit_position(
        uuid4(), parsed.terms(), by, now, representative_deadline=REPRESENTATIVE_DEADLINE
    )
