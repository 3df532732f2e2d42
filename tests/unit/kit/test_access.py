"""The tenant checks routes apply after their declared role: a municipality, and what an auditor reads."""

import pytest

from jobbro.access import AccessRefused, own_municipality, requires, sees_municipality
from jobbro.principal import Principal, Role


def _principal(*roles: Role, cvr: str | None = None, municipality: str | None = None) -> Principal:
    return Principal("someone", frozenset(roles), cvr=cvr, municipality=municipality)


def test_a_caseworker_reads_only_their_own_municipality_and_an_auditor_every_one() -> None:
    caseworker, auditor = _principal(Role.CASEWORKER, municipality="101"), _principal(Role.AUDITOR)

    assert sees_municipality(caseworker, "101")
    assert not sees_municipality(caseworker, "751")
    assert not sees_municipality(caseworker, None)
    assert sees_municipality(auditor, "751") and sees_municipality(auditor, None)


def test_a_read_is_limited_to_the_callers_municipality_and_asking_for_another_is_refused() -> None:
    manager = _principal(Role.MANAGER, municipality="751")

    assert own_municipality(manager, None) == "751"
    assert own_municipality(manager, "751") == "751"
    with pytest.raises(AccessRefused) as refused:
        own_municipality(manager, "101")
    assert (refused.value.status, refused.value.code) == (403, "municipality_not_yours")
    assert own_municipality(_principal(Role.AUDITOR), None) is None
    assert own_municipality(_principal(Role.AUDITOR), "101") == "101"


def test_a_caseworker_whose_token_names_no_municipality_reads_nothing() -> None:
    with pytest.raises(AccessRefused) as refused:
        own_municipality(_principal(Role.CASEWORKER), None)
    assert (refused.value.status, refused.value.code) == (403, "municipality_missing")


def test_a_route_must_admit_at_least_one_role() -> None:
    with pytest.raises(ValueError):
        requires()
