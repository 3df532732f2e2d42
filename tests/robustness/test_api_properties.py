"""Property-based tests of the four HTTP APIs: requests generated from each service's OpenAPI document.

Each app runs with its lifespan (so its runtime is started: pool, broker, relay) on real Kafka and PostgreSQL,
reached in-process through Schemathesis' ASGI transport. Schemathesis generates each operation's coverage cases and
requests that fit the schema and that do not; valid requests are also sent with one value at a time replaced by a
hostile one (NUL, a lone surrogate, huge numbers, far dates…), so that they get past validation into the handlers
and the database. Every answer must be below 500 (an exception the in-process client raises counts as a 500), and
every 4xx an RFC 9457 problem document (`application/problem+json`) with `type`, `title`, `status` and a stable
`code` a client can branch on; unknown routes and methods are refused the same way. A test collects every
violation before it fails, with how often and one example each.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import hypothesis.strategies as st
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import HypothesisException
from schemathesis import GenerationMode
from schemathesis.core.transport import Response
from schemathesis.python import asgi

from contracts.catalog import EVENT_TYPES
from contracts.subsidy import ApplicationApproved
from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.principal import Authenticator
from jobbro.testing import provisioned_prefix
from services.activation import app as activation_app
from services.benefits import app as benefits_app
from services.notify import app as notify_app
from services.notify.webhooks import new_secret
from services.subsidy import app as subsidy_app
from services.subsidy.signing import sign
from tests.benefits.factories import import_row
from tests.identity import Callers
from tests.keycloak import RealmUsers
from tests.notify.dns import FakeDns
from tests.robustness.services import Stack, fresh_databases
from tests.subsidy.factories import internship, make_pki, random_digits

EXAMPLES = 25
"""Generated requests per operation and generation mode (schema-conforming, and not): 50 per endpoint."""
PROBLEM = "application/problem+json"
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
SHOWN = 600
"""Characters of a request or response body a violation shows."""

pytestmark = pytest.mark.filterwarnings(
    # The apps' runtimes (Kafka clients, retries) draw from `random` on Schemathesis' event-loop thread while
    # Hypothesis generates a case on this one; generation itself stays derandomized.
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)


@dataclass
class Violations:
    """Each broken rule, per operation: how often, and the first request that broke it."""

    found: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def add(self, operation: str, rule: str, example: str) -> None:
        entry = self.found.setdefault((operation, rule), [0, example])
        entry[0] += 1

    def report(self) -> str:
        return "\n".join(
            f"{operation}: {rule} ({count}x), e.g. {example}"
            for (operation, rule), (count, example) in sorted(self.found.items())
        )


@pytest.fixture(scope="module")
async def stack(
    infra: Infrastructure, kafka: KafkaAccess, tmp_path_factory: pytest.TempPathFactory, realm_users: RealmUsers
) -> AsyncIterator[Stack]:
    directory = tmp_path_factory.mktemp("api")
    async with fresh_databases(infra) as databases:
        prefix = await provisioned_prefix(kafka)
        yield Stack(kafka, prefix, databases, make_pki(directory), realm_users, directory / "post")


@pytest.fixture(scope="module")
async def notify_prefix(kafka: KafkaAccess) -> str:
    return await provisioned_prefix(kafka)


@pytest.fixture(scope="module")
def apps(stack: Stack, notify_prefix: str, authenticator: Authenticator) -> Iterator[dict[str, FastAPI]]:
    """The four apps. Schemathesis' ASGI client starts an app's lifespan (its runtime) on the client's own event loop
    when a test first calls it, and its pytest plugin ends every lifespan after each test.

    Notify reads its own topic namespace and rarely looks for due deliveries: it has nothing to deliver, and its
    delivery worker can survive a cancellation that lands inside a transaction, which hangs the app's shutdown.
    """
    notify = stack.notify(topic_prefix=notify_prefix, delivery_poll_seconds=60.0)
    built = {
        "subsidy": subsidy_app.create_app(stack.subsidy(), authenticator=authenticator),
        "benefits": benefits_app.create_app(stack.benefits(), authenticator=authenticator),
        "activation": activation_app.create_app(stack.activation(), authenticator=authenticator),
        "notify": notify_app.create_app(
            notify,
            notify_app.create_runtime(notify, notify_app.create_context(notify, FakeDns())),
            authenticator=authenticator,
        ),
    }
    try:
        yield built
    finally:
        asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def schemas(apps: dict[str, FastAPI]) -> dict[str, Any]:
    return {name: schemathesis.openapi.from_asgi("/openapi.json", app) for name, app in apps.items()}


@pytest.mark.parametrize("service", ["benefits", "activation", "notify"])
def test_api_answers_generated_requests_below_500_and_refuses_with_problem_documents(
    service: str, schemas: dict[str, Any], apps: dict[str, FastAPI], callers: Callers
) -> None:
    admitted = {
        "benefits": callers.operator(),
        "activation": callers.auditor(),
        "notify": callers.integrator(*EVENT_TYPES),
    }
    violations = _explore(schemas[service], admitted[service])
    _off_the_map(apps[service], violations)
    assert not violations.found, f"{service}:\n{violations.report()}"


@pytest.mark.parametrize("acting_as", ["employer", "caseworker", "nobody"])
def test_subsidy_api_answers_generated_requests_below_500_and_refuses_with_problem_documents(
    acting_as: str, schemas: dict[str, Any], apps: dict[str, FastAPI], callers: Callers
) -> None:
    headers = {
        "employer": callers.employer(random_digits(8)),
        "caseworker": callers.caseworker(),
        "nobody": {},
    }[acting_as]
    violations = _explore(schemas["subsidy"], headers)
    if acting_as == "nobody":
        _off_the_map(apps["subsidy"], violations)
    assert not violations.found, f"subsidy as {acting_as}:\n{violations.report()}"


def test_benefits_citizen_import_answers_any_body_below_500_and_refuses_with_problem_documents(
    apps: dict[str, FastAPI], callers: Callers
) -> None:
    """The import reads its body itself (CSV or JSON, no schema in the OpenAPI): generate bodies for it here."""
    violations = Violations()
    rows = st.lists(
        st.dictionaries(
            st.sampled_from(["cpr", "municipality", "benefit", "monthly_rate_ore", "birth_date", "unemployed_since"]),
            st.one_of(st.text(max_size=12), st.integers(), st.none(), st.booleans()),
        ),
        max_size=3,
    )
    bodies = st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        rows.map(lambda value: json.dumps(value).encode()),
        rows.map(lambda value: _csv(value).encode()),
    )
    media_types = st.sampled_from(["application/json", "text/csv", "text/csv; charset=utf-8", "text/plain", ""])

    with asgi.get_client(apps["benefits"]) as client:

        @_bounded(EXAMPLES * 2)
        @given(body=bodies, media_type=media_types)
        def send(body: bytes, media_type: str) -> None:
            headers = callers.operator() | ({"Content-Type": media_type} if media_type else {})
            request = f"POST /v1/admin/citizens/import Content-Type {media_type!r} body {body[:SHOWN]!r}"
            send = partial(client.post, "/v1/admin/citizens/import", data=body, headers=headers)
            _call(send, "POST /v1/admin/citizens/import", request, violations)

        send()
    assert not violations.found, f"benefits:\n{violations.report()}"


@pytest.mark.parametrize("service", ["subsidy", "benefits", "activation", "notify"])
def test_api_answers_corrupted_valid_requests_below_500_and_refuses_with_problem_documents(
    service: str, stack: Stack, apps: dict[str, FastAPI], callers: Callers
) -> None:
    """Valid requests (they pass validation, so reach the handlers and the database), each with one value replaced
    by each hostile value in turn: every path parameter, query parameter and JSON leaf, and the whole body."""
    violations = Violations()
    with asgi.get_client(apps[service]) as client:
        for seed in _seeds(service, stack, client, callers):
            for corrupted in _corruptions(seed):
                sent = corrupted.request()
                operation = f"{seed.method} {seed.path}"
                _call(partial(client.request, **sent), operation, corrupted.shown(sent), violations)
    assert not violations.found, f"{service}:\n{violations.report()}"


def _explore(schema: Any, headers: dict[str, str]) -> Violations:
    """Every operation of `schema`: its coverage cases (boundaries, wrong types, missing parts, other methods),
    then generated requests that fit it and requests that do not."""
    violations = Violations()
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    for result in schema.get_all_operations():
        operation = result.ok()
        send = _sender(operation.path, headers, violations)
        config = schema.config.generation_for(operation=operation)
        for case in schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=config):
            send(case)
        for mode in modes:
            try:
                _bounded(EXAMPLES)(given(case=operation.as_strategy(generation_mode=mode))(send))()
            except HypothesisException as exc:  # e.g. nothing can be invalid about a request without inputs
                if mode is GenerationMode.POSITIVE:
                    raise
                assert "Unsatisfiable" in type(exc).__name__, exc
    return violations


def _sender(path: str, headers: dict[str, str], violations: Violations) -> Callable[[Any], None]:
    def send(case: Any) -> None:
        shown = f"{case.method.upper()} {case.formatted_path} query {case.query!r} body {case.body!r}"[:SHOWN]
        _call(partial(case.call, headers=headers), f"{case.method.upper()} {path}", shown, violations)

    return send


def _call(send: Callable[[], Any], operation: str, request: str, violations: Violations) -> None:
    """Send, and check the answer; the in-process client raises what the app did not handle (a 500 over HTTP)."""
    try:
        response = send()
    except Exception as exc:
        violations.add(operation, f"fails with {type(exc).__name__} (500)", f"{request} -> {exc!r}"[: SHOWN * 2])
        return
    _check(Response.from_any(response), operation, request, violations)


def _off_the_map(app: FastAPI, violations: Violations) -> None:
    """Requests no operation is documented for: an unknown path, and a documented path with another method."""
    with asgi.get_client(app) as client:
        for method, path in (("GET", "/no/such/route"), ("POST", "/health/live"), ("PATCH", "/openapi.json")):
            _call(partial(client.request, method, path), f"{method} {path}", f"{method} {path}", violations)


def _bounded(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Reproducible (derandomized) and bounded; no shrinking: a violation is recorded, not raised."""
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _check(response: Response, operation: str, request: str, violations: Violations) -> None:
    """Below 500; and a 4xx is a problem document with type, title, status (its own) and a snake_case code."""
    status = response.status_code
    if status < 400:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    example = f"{request} -> {status} {content_type} {response.text[:SHOWN]!r}"
    if status >= 500:
        violations.add(operation, f"answers {status}", example)
        return
    if not content_type.startswith(PROBLEM):
        violations.add(operation, f"{status} is {content_type or 'without content-type'}, not {PROBLEM}", example)
        return
    try:
        body = json.loads(response.text)
    except ValueError:
        violations.add(operation, f"{status} problem body is not JSON", example)
        return
    if not isinstance(body, dict):
        violations.add(operation, f"{status} problem body is not an object", example)
        return
    wanted = {"type": str, "title": str, "status": int, "code": str}
    missing = sorted(name for name, kind in wanted.items() if not isinstance(body.get(name), kind))
    if missing:
        violations.add(operation, f"{status} problem without {', '.join(missing)}", example)
    elif body["status"] != status or not CODE.match(body["code"]):
        violations.add(operation, f"{status} problem with status {body['status']}, code {body['code']!r}", example)


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = sorted({name for row in rows for name in row})
    lines = [",".join(columns)] + [",".join(str(row.get(name, "")) for name in columns) for row in rows]
    return "\n".join(lines)


# --- valid requests, and one value of them corrupted ------------------------------------------------------------------

TEXT = [
    "\x00",
    "a\x00b",
    "\u202e\ufeff",
    "x" * 5000,
    "",
    " ",
    "0001-01-01",
    "9999-12-31",
    "http://[::1/x",
    "-1",
    "1e309",
]
"""Values for a path segment, a query parameter or a JSON string: NUL, bidi and BOM, long, empty, far dates…"""
JSON_ONLY = ["\udcff", 10**20, -(10**20), 2**63, 1e308, -0.0, None, True, [], {}]
"""Values only a JSON body can carry: a lone surrogate (as its escape), huge numbers, other types."""
WHOLE_BODIES = [b"[" * 5000, b"\xff\xfe\x00", b'{"truncated": ', b"", b"null"]
"""Bodies replacing a JSON body altogether: deep nesting, not UTF-8, cut short, empty."""


@dataclass(frozen=True)
class Seed:
    """A request the service accepts, or refuses for business reasons only; `finish` completes a (corrupted) body,
    `fresh` gives new path parameters for each request (a new application to withdraw, say)."""

    method: str
    path: str
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    headers: Callable[[], dict[str, str]] = dict
    finish: Callable[[Any], Any] = lambda body: body
    fresh: Callable[[], dict[str, str]] | None = None


@dataclass(frozen=True)
class Corrupted:
    seed: Seed
    path_params: dict[str, str]
    """Only the corrupted one, if a path parameter was."""
    query: dict[str, str]
    body: bytes | None
    what: str

    def request(self) -> dict[str, Any]:
        """What to send (for a `fresh` seed, about something new)."""
        if self.seed.fresh is not None and not self.path_params:
            params = self.seed.fresh()
        else:
            params = self.seed.path_params | self.path_params
        path = self.seed.path.format(**{name: quote(value, safe="") for name, value in params.items()})
        headers = self.seed.headers() | ({"Content-Type": "application/json"} if self.body is not None else {})
        return {"method": self.seed.method, "url": path, "params": self.query, "data": self.body, "headers": headers}

    def shown(self, request: dict[str, Any]) -> str:
        body = (self.body or b"")[:SHOWN]
        return f"{request['method']} {request['url']} query {self.query!r} body {body!r} ({self.what})"


def _corruptions(seed: Seed) -> Iterator[Corrupted]:
    """`seed` with one path parameter, query parameter or JSON value replaced by each hostile value (or by itself
    with NUL, or a lone surrogate, appended: it stays long enough, an URL stays absolute), or its whole body."""
    for name, original in seed.path_params.items():
        for value in [*TEXT, original + "\x00"]:
            yield Corrupted(seed, {name: value}, seed.query, _body(seed, seed.body), f"path {name} = {value[-40:]!r}")
    for name, original in seed.query.items():
        for value in [*TEXT, original + "\x00"]:
            query = seed.query | {name: value}
            yield Corrupted(seed, {}, query, _body(seed, seed.body), f"query {name} = {value[-40:]!r}")
    if seed.body is None:
        return
    for at in _leaves(seed.body):
        original = _at(seed.body, at)
        appended = [original + "\x00", original + "\udcff"] if isinstance(original, str) else []
        for value in TEXT + JSON_ONLY + appended:
            try:
                body = _body(seed, _replaced(seed.body, at, value))
            except ValueError:  # e.g. an integer a signature's canonical JSON cannot carry: no employer signs it
                continue
            yield Corrupted(seed, {}, seed.query, body, f"body {'.'.join(map(str, at))} = {str(value)[-40:]!r}")
    for raw in WHOLE_BODIES:
        yield Corrupted(seed, {}, seed.query, raw, f"body {raw[:20]!r}")


def _at(value: Any, at: tuple[Any, ...]) -> Any:
    for step in at:
        value = value[step]
    return value


def _body(seed: Seed, body: Any) -> bytes | None:
    return None if body is None else json.dumps(seed.finish(body)).encode()


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*at, key))] or [at]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*at, index))] or [at]
    return [at]


def _replaced(value: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[at[0]] = _replaced(value[at[0]], at[1:], new)
    return copy


def _seeds(service: str, stack: Stack, client: Any, callers: Callers) -> list[Seed]:
    return {
        "subsidy": _subsidy_seeds,
        "benefits": _benefits_seeds,
        "activation": _activation_seeds,
        "notify": _notify_seeds,
    }[service](stack, client, callers)


def _subsidy_seeds(stack: Stack, client: Any, callers: Callers) -> list[Seed]:
    """A signed application (corrupted before it is signed), and requests about one submitted application."""
    employer = stack.pki.employer()

    def signed(form: dict[str, Any]) -> dict[str, Any]:
        return {"application": form, "signature": sign(form, employer.signer.key, [employer.signer.cert])}

    def as_employer() -> dict[str, str]:
        return callers.employer(employer.cvr) | {"Idempotency-Key": str(uuid4())}

    def application() -> dict[str, str]:
        submitted = client.post("/v1/applications", json=signed(internship(employer)), headers=as_employer())
        assert submitted.status_code == 201, submitted.text
        return {"application_id": submitted.json()["id"]}

    existing = application()
    return [
        Seed("POST", "/v1/applications", body=internship(employer), headers=as_employer, finish=signed),
        Seed("GET", "/v1/applications/{application_id}", existing, headers=as_employer),
        Seed("GET", "/v1/applications", query={"state": "assessing"}, headers=as_employer),
        Seed(
            "POST",
            "/v1/applications/{application_id}/withdrawal",
            existing,
            body={"reason": "Plans changed"},
            headers=as_employer,
            fresh=application,
        ),
        Seed("POST", "/v1/representative-approval", body={"token": "t" * 40, "approve": False, "reason": "No"}),
    ]


def _benefits_seeds(stack: Stack, client: Any, callers: Callers) -> list[Seed]:
    operator = partial(callers.operator)
    return [
        Seed("POST", "/v1/admin/citizens/import", body=[import_row()], headers=operator),
        Seed("GET", "/v1/ledger/reconciliation/{month}", {"month": "2026-11"}, headers=operator),
        Seed(
            "POST",
            "/v1/admin/payment-instructions/{instruction_id}/reissue",
            {"instruction_id": str(uuid4())},
            headers=operator,
        ),
    ]


def _activation_seeds(stack: Stack, client: Any, callers: Callers) -> list[Seed]:
    auditor = partial(callers.auditor)
    plan = {"citizen_ref": f"c-{uuid4().hex[:16]}"}
    return [
        Seed("GET", "/v1/citizens/{citizen_ref}/plan", plan, {"on": "2026-06-01"}, headers=auditor),
        Seed("GET", "/v1/overdue", query={"on": "2026-06-01", "municipality": "101"}, headers=auditor),
        Seed(
            "GET",
            "/v1/statistics",
            query={"from": "2025-06-01", "to": "2026-06-01", "municipality": "101"},
            headers=auditor,
        ),
        Seed("GET", "/v1/statistics", query={"to": "2026-06-01"}, headers=auditor),  # the window: a year before `to`
    ]


def _notify_seeds(stack: Stack, client: Any, callers: Callers) -> list[Seed]:
    integrator = callers.integrator(*EVENT_TYPES)
    subscription = {
        "url": "https://integrator.example/jobbro-events",
        "event_types": [ApplicationApproved.type],
        "secret": new_secret(),
    }
    created = client.post("/v1/webhooks/subscriptions", json=subscription, headers=integrator)
    assert created.status_code == 201, created.text
    existing = {"subscription_id": created.json()["id"]}
    return [
        Seed("POST", "/v1/webhooks/subscriptions", body=subscription, headers=lambda: integrator),
        Seed(
            "POST",
            "/v1/webhooks/subscriptions/{subscription_id}/reactivate",
            existing,
            body={"url": "https://integrator.example/v2"},
            headers=lambda: integrator,
        ),
        Seed("GET", "/v1/webhooks/subscriptions/{subscription_id}", existing, headers=lambda: integrator),
        Seed("GET", "/v1/webhooks/subscriptions/{subscription_id}/deliveries", existing, headers=lambda: integrator),
    ]
