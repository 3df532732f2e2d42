"""The one mapping from the caller a token names to the actor an application's history records."""

import pytest

from jobbro.access import AccessRefused
from jobbro.principal import Principal
from jobbro.principal import Role as Access
from services.subsidy.api import _actor
from services.subsidy.domain import Actor, Role


def _principal(*roles: Access, cvr: str | None = None, municipality: str | None = None) -> Principal:
    return Principal("user-1", frozenset(roles), cvr=cvr, municipality=municipality)


def test_acts_in_the_first_role_the_route_admits_bound_only_to_that_roles_tenant() -> None:
    both = _principal(Access.CASEWORKER, Access.EMPLOYER_SIGNER, cvr="12345678", municipality="751")

    assert _actor(both, (Access.EMPLOYER_SIGNER,)) == Actor(Role.EMPLOYER, "user-1", cvr="12345678")
    assert _actor(both, (Access.CASEWORKER,)) == Actor(Role.CASEWORKER, "user-1", municipality="751")
    assert _actor(_principal(Access.AUDITOR, cvr="12345678"), (Access.EMPLOYER, Access.AUDITOR)) == Actor(
        Role.AUDITOR, "user-1"
    )


@pytest.mark.parametrize(
    ("principal", "code"),
    [
        (_principal(Access.EMPLOYER_SIGNER, municipality="751"), "cvr_missing"),
        (_principal(Access.CASEWORKER, cvr="12345678"), "municipality_missing"),
    ],
)
def test_refuses_a_role_whose_token_names_no_tenant(principal: Principal, code: str) -> None:
    with pytest.raises(AccessRefused) as refused:
        _actor(principal, (Access.EMPLOYER_SIGNER, Access.CASEWORKER))
    assert (refused.value.status, refused.value.code) == (403, code)
