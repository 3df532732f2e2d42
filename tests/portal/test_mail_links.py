"""Every link to the portal in every mail and letter notify writes leads to a page of the portal, in both languages.

The notices are notify's own (its template test's examples, for known and unknown applications, by mail and by
Digital Post); each link is followed on the portal's app as an anonymous browser would: a page that needs a login
sends it to log in, a public page answers, and no link may end on "page not found".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from services.notify.render import Renderer
from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.notify.unit.test_templates import LANGUAGES, _audience, _every_notice, _position

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


def _links() -> set[str]:
    renderer = Renderer(PORTAL)
    audience = _audience()
    found = set()
    for known in (audience, _position(audience), None, _audience(employer_email=None)):
        for notice in _every_notice(known):
            for language in LANGUAGES:
                found.update(_LINK.findall(renderer.render(notice.template, language, notice.facts).body))
    return found


def test_the_mails_link_to_the_portal() -> None:
    paths = {re.sub(r"[0-9a-f-]{36}", "{id}", link) for link in _links()}
    assert {"/applications/{id}", "/applications/{id}/confirm", "/caseworker/applications/{id}"} <= paths


def test_every_link_to_the_portal_in_every_mail_leads_to_a_page(portal: TestClient) -> None:
    dead = []
    for path in sorted(_links()):
        response = portal.get(path, follow_redirects=True)
        ended = response.url.path
        if response.status_code == 404 and not ended.startswith("/login"):
            dead.append(path)
    assert dead == []
