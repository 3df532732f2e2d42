"""The portal's own behaviour that needs no identity provider: redirects to log in, CSRF, cookies, settings."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.tracing import recording, trace_of, traceparent_ids


def _nothing_answers(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("no identity provider in this test", request=request)


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = PortalSettings(oidc_issuer="http://127.0.0.1:9/realms/jobbro")
    app = create_app(settings, oidc_transport=httpx.MockTransport(_nothing_answers))
    with TestClient(app, base_url="http://127.0.0.1:8100") as found:
        yield found


@pytest.mark.parametrize("path", ["/", "/applications", "/caseworker", "/caseworker/applications/" + "0" * 32])
def test_a_page_without_a_session_sends_the_browser_to_log_in_and_back(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_logout_without_the_forms_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post("/logout", data={"csrf_token": "guessed"})
    assert response.status_code == 403
    assert "Formularen er udløbet" in response.text


def test_the_login_return_address_stays_on_this_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.get(f"/language/en?next={target}", follow_redirects=False)
        assert response.headers["location"] == "/"


def test_an_unreachable_identity_provider_gets_a_page_not_an_error(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 503
    assert "Prøv igen om lidt" in response.text


def test_pages_forbid_framing_and_scripts_from_elsewhere(client: TestClient) -> None:
    headers = client.get("/logged-out").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_the_language_choice_is_remembered_in_a_cookie_and_used(client: TestClient) -> None:
    client.get("/language/en?next=/logged-out")
    page = client.get("/logged-out")
    assert '<html lang="en">' in page.text
    assert "You are logged out" in page.text


def test_the_development_secret_and_plain_http_are_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="PORTAL_OIDC_CLIENT_SECRET"):
        PortalSettings(environment="production", public_url="https://portal.example")
    with pytest.raises(ValidationError, match="https"):
        PortalSettings(
            environment="production", public_url="http://portal.example", oidc_client_secret="s3cret-from-vault"
        )
    real = PortalSettings(
        environment="production", public_url="https://portal.example", oidc_client_secret="from-vault"
    )
    assert real.secure_cookies
    assert "from-vault" not in repr(real)


def test_the_approval_mails_confirm_link_logs_in_and_comes_back(client: TestClient) -> None:
    application = "00000000-0000-0000-0000-000000000007"
    response = client.get(f"/applications/{application}/confirm", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/applications/{application}/confirm"


def test_the_portal_is_in_production_unless_told_it_runs_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBBRO_ENVIRONMENT", raising=False)

    with pytest.raises(ValidationError, match="PORTAL_OIDC_CLIENT_SECRET"):
        PortalSettings()


def test_metrics_count_the_pages_served_by_route_and_status(client: TestClient) -> None:
    client.get("/applications", follow_redirects=False)
    client.get("/applications", follow_redirects=False)

    metrics = client.get("/metrics")

    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'jobbro_http_requests_total{handler="/applications",method="GET",status="303"} 2.0' in metrics.text
    assert "jobbro_outbox_depth" not in metrics.text, "the portal has no outbox"


def test_a_page_sends_its_span_to_the_service_it_calls_as_traceparent() -> None:
    recording()
    sent: list[httpx.Request] = []

    def subsidy(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(403, json={"code": "link_invalid"})

    settings = PortalSettings(oidc_issuer="http://127.0.0.1:9/realms/jobbro")
    app = create_app(
        settings, oidc_transport=httpx.MockTransport(_nothing_answers), api_transport=httpx.MockTransport(subsidy)
    )
    with TestClient(app, base_url="http://127.0.0.1:8100") as client:
        client.get("/representative", params={"token": "a-link-token"})

    [call] = sent
    trace_id, span_id = traceparent_ids(call.headers["traceparent"])
    [page] = [span for span in trace_of(trace_id) if span.parent is None]  # the click starts the trace
    assert page.kind is SpanKind.SERVER and page.name == "GET /representative"
    assert span_id in {span.context.span_id for span in trace_of(trace_id)}
