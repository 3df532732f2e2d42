"""Every route of every service, read from its OpenAPI: it declares roles, refuses a caller without a token (401),
a caller in none of its roles (403), and a caseworker or manager asking for another municipality (403).

Generated, so a new route without a declaration fails here. The apps are built without starting them: the
refusals come before any handler touches the database or the broker. Refusing another tenant's object needs the
object, so those tests run beside each service's; `CROSS_TENANT` names one for every route a tenant-bound role may
call, and a new such route fails here until it names one.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from demo.backoffice import BackofficeSettings
from demo.backoffice import create_runtime as backoffice_runtime
from jobbro.access import SCHEME
from jobbro.principal import Authenticator, Principal, Role
from jobbro.runtime import create_http_app
from services.activation.app import create_app as activation_app
from services.activation.settings import ActivationSettings
from services.benefits.app import create_app as benefits_app
from services.benefits.settings import BenefitsSettings
from services.notify.app import create_app as notify_app
from services.notify.settings import NotifySettings
from services.subsidy.app import create_app as subsidy_app
from services.subsidy.settings import SubsidySettings
from tests.identity import TokenFor, bearer

PUBLIC = {
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/v1/representative-approval"),
    ("post", "/v1/representative-approval"),
}
"""The only routes without a bearer token: health for supervisors, and the representative's link (its own token)."""

_TENANT_CLAIMS = {"cvr": "12345678", "municipality": "751"}
"""Claims every wrong-role token carries, so a refusal can only come from the role."""


def _apps(authenticator: Authenticator | None, directory: Path) -> dict[str, FastAPI]:
    anchors = directory / "anchors.pem"
    anchors.write_text("")
    subsidy = SubsidySettings(trust_anchors=anchors)
    return {
        "subsidy": subsidy_app(subsidy, authenticator=authenticator),
        "benefits": benefits_app(BenefitsSettings(), authenticator=authenticator),
        "activation": activation_app(ActivationSettings(), authenticator=authenticator),
        "notify": notify_app(NotifySettings(digital_post_dir=directory / "post"), authenticator=authenticator),
        "backoffice": create_http_app(backoffice_runtime(BackofficeSettings()), authenticator=authenticator),
    }


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    spec: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.service} {self.method.upper()} {self.path}"

    @property
    def admitted(self) -> frozenset[Role]:
        """The roles the operation's security requirement lists."""
        return frozenset(Role(role) for requirement in self.spec.get("security", []) for role in requirement[SCHEME])

    def url(self) -> str:
        """The path with every parameter filled: a random UUID where the schema asks for one."""
        url = self.path
        for parameter in self.spec.get("parameters", []):
            if parameter["in"] == "path":
                uuid = parameter["schema"].get("format") == "uuid"
                url = url.replace("{" + parameter["name"] + "}", str(uuid4()) if uuid else "2026-11")
        return url


def _operations(apps: dict[str, FastAPI]) -> Iterator[Operation]:
    for service, app in apps.items():
        for path, item in app.openapi()["paths"].items():
            for method, spec in item.items():
                yield Operation(service, method, path, spec)


def _collected() -> list[Operation]:
    """Collection needs the operations before any fixture exists: apps with their own token book list them."""
    with tempfile.TemporaryDirectory() as directory:
        return [op for op in _operations(_apps(None, Path(directory))) if (op.method, op.path) not in PUBLIC]


OPERATIONS = _collected()


@pytest.fixture(scope="module")
def refusals() -> dict[str, list[str]]:
    """The routes each service's role check refused, as it hands them to the access audit (the apps are not started,
    so a list stands in for the audit's table)."""
    return {}


def _recorder(into: list[str]) -> Callable[[Principal, str], Awaitable[None]]:
    async def record(_principal: Principal, route: str) -> None:
        into.append(route)

    return record


@pytest.fixture(scope="module")
async def clients(
    authenticator: Authenticator, tmp_path_factory: pytest.TempPathFactory, refusals: dict[str, list[str]]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    apps = _apps(authenticator, tmp_path_factory.mktemp("apps"))
    found: dict[str, httpx.AsyncClient] = {}
    for name, app in apps.items():
        if app.state.record_refusal is not None:
            app.state.record_refusal = _recorder(refusals.setdefault(name, []))
        found[name] = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
    yield found
    for client in found.values():
        await client.aclose()


async def _call(client: httpx.AsyncClient, operation: Operation, **kwargs: Any) -> httpx.Response:
    return await client.request(operation.method, operation.url(), json={}, **kwargs)


def test_every_route_but_health_and_the_representatives_link_declares_roles() -> None:
    with_apps = {op.service for op in OPERATIONS}
    assert with_apps == {"subsidy", "benefits", "activation", "notify"}, "the back-office has only health routes"
    undeclared = [str(op) for op in OPERATIONS if not op.admitted]
    assert not undeclared, f"routes without a role: {undeclared}"


def test_every_declared_route_shows_the_bearer_scheme_in_openapi(tmp_path: Path, authenticator: Authenticator) -> None:
    for app in _apps(authenticator, tmp_path).values():
        schemes = app.openapi().get("components", {}).get("securitySchemes", {})
        assert not schemes or schemes[SCHEME] == {
            "type": "http",
            "scheme": "bearer",
            "description": schemes[SCHEME]["description"],
        }


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
async def test_refuses_a_caller_without_a_token(clients: dict[str, httpx.AsyncClient], operation: Operation) -> None:
    response = await _call(clients[operation.service], operation)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
async def test_refuses_a_token_the_identity_provider_did_not_issue(
    clients: dict[str, httpx.AsyncClient], operation: Operation
) -> None:
    response = await _call(clients[operation.service], operation, headers=bearer("forged-" + str(uuid4())))
    assert response.status_code == 401, response.text
    assert response.json()["code"].startswith("token_")


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
async def test_refuses_every_role_the_route_does_not_admit_and_records_the_refusal(
    clients: dict[str, httpx.AsyncClient], refusals: dict[str, list[str]], token_for: TokenFor, operation: Operation
) -> None:
    recorded = refusals[operation.service]
    before = len(recorded)
    refused = set(Role) - operation.admitted
    for role in refused:
        token = token_for(role, event_types=["dk.jobbro.subsidy.application-approved.v1"], **_TENANT_CLAIMS)
        response = await _call(clients[operation.service], operation, headers=bearer(token))
        assert response.status_code == 403, f"{role}: {response.text}"
        assert response.json()["code"] == "role_not_allowed"
    assert recorded[before:] == [f"{operation.method.upper()} {operation.path}"] * len(refused)


_MUNICIPAL = [op for op in OPERATIONS if any(p["name"] == "municipality" for p in op.spec.get("parameters", []))]


@pytest.mark.parametrize("operation", _MUNICIPAL, ids=str)
async def test_refuses_a_caseworker_or_manager_asking_for_another_municipality(
    clients: dict[str, httpx.AsyncClient], token_for: TokenFor, operation: Operation
) -> None:
    for role in operation.admitted & {Role.CASEWORKER, Role.MANAGER}:
        token = token_for(role, municipality="101")
        response = await _call(
            clients[operation.service], operation, headers=bearer(token), params={"municipality": "751"}
        )
        assert response.status_code == 403, f"{role}: {response.text}"
        assert response.json()["code"] == "municipality_not_yours"


def test_finds_the_municipal_reads() -> None:
    assert {op.path for op in _MUNICIPAL} == {"/v1/overdue", "/v1/statistics"}


_TENANT_BOUND = {Role.EMPLOYER, Role.EMPLOYER_SIGNER, Role.CASEWORKER, Role.MANAGER, Role.INTEGRATOR}
"""Roles bound to a tenant (a CVR number, a municipality, an integrator's own subscriptions and grant)."""
_API = "tests.subsidy.integration.test_api::"
_OTHER_CVR = _API + "test_an_employer_sees_only_its_own_cvrs_applications"
_OTHER_MUNICIPALITY = _API + "test_a_caseworker_of_another_municipality_neither_sees_nor_decides_a_referred_case"
_OTHER_SIGNER = _API + "test_a_signer_of_another_cvr_takes_no_step_on_a_placement_and_learns_nothing_of_it"
_NAMING = (
    "tests.subsidy.integration.test_positions::test_naming_a_citizen_needs_the_employers_signature_over_that_citizen"
)
_PLAN = "tests.activation.integration.test_plan::" + (
    "test_a_citizens_plan_is_read_by_caseworkers_of_their_municipality_and_auditors_only"
)
_MUNICIPAL_READS = f"{__name__}::test_refuses_a_caseworker_or_manager_asking_for_another_municipality"
_NOTIFY = "tests.notify.integration.test_access::"
_GRANT = _NOTIFY + "test_nobody_subscribes_anonymously_nor_to_event_types_outside_their_grant"
_OWNER = _NOTIFY + (
    "test_an_integrator_cannot_see_change_or_cancel_anothers_subscription_but_an_operator_may_reactivate_it"
)
_APPLICATION = "/v1/applications/{application_id}"
_SUBSCRIPTION = "/v1/webhooks/subscriptions/{subscription_id}"
CROSS_TENANT = {
    "subsidy POST /v1/applications": _API + "test_an_employer_may_submit_only_for_its_own_cvr",
    "subsidy GET /v1/applications": _OTHER_MUNICIPALITY,
    f"subsidy GET {_APPLICATION}": _OTHER_CVR,
    f"subsidy POST {_APPLICATION}/caseworker-decision": _OTHER_MUNICIPALITY,
    f"subsidy GET {_APPLICATION}/derivation": "tests.subsidy.integration.test_derivation::"
    + "test_a_caseworker_and_an_auditor_read_how_a_decision_came_about",
    f"subsidy POST {_APPLICATION}/citizen": _NAMING,
    **{
        f"subsidy POST {_APPLICATION}/{step}": _OTHER_SIGNER
        for step in ("confirmation", "extension", "hours", "end", "withdrawal", "wage-reports")
    },
    "activation GET /v1/citizens/{citizen_ref}/plan": _PLAN,
    "activation GET /v1/overdue": _MUNICIPAL_READS,
    "activation GET /v1/statistics": _MUNICIPAL_READS,
    "notify POST /v1/webhooks/subscriptions": _GRANT,
    "notify GET /v1/webhooks/subscriptions": "tests.notify.integration.test_api::"
    + "test_an_integrator_pages_through_its_own_subscriptions_each_once_and_sees_no_others",
    f"notify GET {_SUBSCRIPTION}": _OWNER,
    f"notify GET {_SUBSCRIPTION}/deliveries": _OWNER,
    f"notify POST {_SUBSCRIPTION}/reactivate": _OWNER,
    f"notify DELETE {_SUBSCRIPTION}": _OWNER,
}
"""Where each route a tenant-bound role may call is shown refusing another tenant (403, or 404 for an object):
those need the object to exist, so they run against the running service, each beside its service's tests."""


def test_every_route_of_a_tenant_bound_role_has_a_cross_tenant_test() -> None:
    bound = {str(op) for op in OPERATIONS if op.admitted & _TENANT_BOUND}
    assert bound == set(CROSS_TENANT), f"name a cross-tenant test for: {sorted(bound - set(CROSS_TENANT))}"
    for node in CROSS_TENANT.values():
        module, name = node.split("::")
        assert callable(getattr(importlib.import_module(module), name, None)), f"no test {node}"
