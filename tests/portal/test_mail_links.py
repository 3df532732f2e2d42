"""Every link to the portal in every mail and letter notify writes leads to a page of the portal, in both languages.

The notices are notify's own (its template test's examples, for known and unknown applications and positions, by
mail and by Digital Post), every template of notify among them; the representative's approval request carries the
link notify opens from the token subsidy sealed, as it does before mailing. Each link is followed on the portal's
app as an anonymous browser would: a page that needs a login sends it to log in, a public page answers, and no
link may end on "page not found".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from contracts.envelope import Event
from contracts.subsidy import RepresentativeApprovalRequested
from jobbro.keyring import link_sealer
from services.notify import notices
from services.notify.domain import Audience, Notice, UnknownApplication
from services.notify.links import RepresentativeLinks
from services.notify.render import Renderer, template_names
from services.notify.settings import NotifySettings
from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.notify.unit.test_templates import CASEWORKER, LANGUAGES, _audience, _examples, _position

PORTAL = "http://127.0.0.1:8100"
_LINK = re.compile(re.escape(PORTAL) + r"(/[^\s)>\"]*)")


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("no services in this test", request=request)


@pytest.fixture(scope="module")
def portal() -> Iterator[TestClient]:
    transport = httpx.MockTransport(_unreachable)
    app = create_app(PortalSettings(), oidc_transport=transport, api_transport=transport)
    with TestClient(app, base_url=PORTAL) as client:
        yield client


def _mailed(event: Event) -> Event:
    """The event as notify mails it: a representative's request with the link opened from subsidy's seal."""
    if not isinstance(event, RepresentativeApprovalRequested):
        return event
    settings = NotifySettings(portal_url=PORTAL)
    sealed = json.dumps(
        {"token": "a-link-token", "request_id": str(event.request_id), "to": event.representative_email}
    )
    sealer = link_sealer(settings.link_seal_keys, setting="test")
    with_seal = event.model_copy(update={"sealed_link": sealer.seal(sealed)})
    return RepresentativeLinks.from_settings(settings.link_seal_keys, settings.link_url).opened(with_seal)


def _notices(audience: Audience | None) -> list[Notice]:
    """Every notice of every rule of notify for the events' examples (a rule needing a known application skips)."""
    given = []
    for model, rule in notices.RULES.items():
        for event in _examples(model):
            try:
                given.extend(rule(_mailed(event), audience, CASEWORKER))
            except UnknownApplication:
                continue
    return given


def _rendered() -> dict[str, set[str]]:
    """Each template of notify rendered, in each language, with the links to the portal its message holds."""
    renderer = Renderer(PORTAL)
    audience = _audience()
    found: dict[str, set[str]] = {}
    for known in (audience, _position(audience), None, _audience(employer_email=None)):
        for notice in _notices(known):
            for language in LANGUAGES:
                body = renderer.render(notice.template, language, notice.facts).body
                found.setdefault(f"{language}/{notice.template}", set()).update(_LINK.findall(body))
    return found


def _links() -> set[str]:
    return set().union(*_rendered().values())


def test_every_template_of_notify_is_rendered_in_every_language() -> None:
    every = {f"{language}/{name}" for language in LANGUAGES for name in template_names(language)}
    assert set(_rendered()) == every


def test_the_mails_link_to_the_portal() -> None:
    paths = {re.sub(r"[0-9a-f-]{36}", "{id}", link) for link in _links()}
    assert {"/applications/{id}", "/applications/{id}/confirm", "/caseworker/applications/{id}"} <= paths
    assert "/representative?token=a-link-token" in paths, "the representative's mail links to their page"


def test_every_link_to_the_portal_in_every_mail_leads_to_a_page(portal: TestClient) -> None:
    dead = []
    for path in sorted(_links()):
        response = portal.get(path, follow_redirects=True)
        ended = response.url.path
        if response.status_code == 404 and not ended.startswith("/login"):
            dead.append(path)
    assert dead == []
