"""The portal in Debian's Chromium on a whole stack: people log in through Keycloak's own form, read their pages
in Danish (and English), and every page passes axe-core's WCAG 2.1 A/AA rules and fits 320 px.

The applications are made first through the subsidy API, as an employer's system would (demo/application.py signs
them with the stack's development certificates): an internship the rules approve and the employer confirms, a
second one whose ratio warning the employer overrides (so it goes to a caseworker of Aarhus, 751), and one of
another company (Nordisk Logistik), which Hansen VVS must not see; the third citizen has been on dagpenge for
220 days without an offer, so the overdue list names them; a wage subsidy running since last month has a month to
report. A fifth citizen is only registered: the employer applies for them in the browser's form. The tests run in
file order on these cases: the employer reads the referred case before the caseworker decides it.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from playwright.async_api import Browser, Page

from demo import application, citizens, logins, mailbox
from jobbroctl.stack import Layout
from tests.portal.browser import assert_accessible, assert_fits, log_in

MUNICIPALITY = "751"
_SETTLE_SECONDS = 90


@dataclass(frozen=True)
class Cases:
    confirmed: str
    referred: str
    others: str
    """Nordisk Logistik's application: not Hansen VVS's to see; its employee representative is asked by mail."""
    representative: str
    """The representative's mail address."""
    approved: str
    """Hansen VVS's internship at another workplace, approved and waiting for the employer's final approval."""
    wage_subsidy: str
    """Hansen VVS's wage subsidy, confirmed and running since the first day of last month (a month that is over)."""
    applicant: str
    """The CPR number of a registered citizen on dagpenge whom the employer applies for in the browser."""


@pytest.fixture(scope="module")
async def cases(portal_stack: Layout, oidc_issuer: str) -> Cases:
    async with httpx.AsyncClient(timeout=30) as http:
        return await _make_cases(http, portal_stack, logins.Logins(http, oidc_issuer))


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    found = await context.new_page()
    yield found
    await context.close()


async def test_employer_sees_own_applications_in_danish_not_anothers_switches_to_english_and_logs_out(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal = portal_stack.service("portal").url
    await page.goto(f"{portal}/")
    assert "/realms/jobbro/protocol/openid-connect/auth" in page.url, "an anonymous visitor is sent to log in"
    await log_in(page, logins.SIGNER)

    await page.wait_for_url(f"{portal}/applications")
    [cookie] = [c for c in await page.context.cookies(portal) if c["name"] == "jobbro_portal_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax", "no script reads it, no cross-site POST"
    assert len(cookie["value"]) >= 40 and "." not in cookie["value"], "a random id, not the tokens"
    assert await page.locator("html").get_attribute("lang") == "da"
    assert await page.locator("h1").inner_text() == "Jeres ansøgninger"
    rows = page.locator("tbody tr")
    assert await rows.count() == 4, "Hansen VVS's four applications, not Nordisk Logistik's"
    assert "Forløbet er i gang" in await page.locator("tbody").inner_text()
    await _checked(page, screenshots, "employer-applications")

    await page.click(f"a[href='/applications/{cases.confirmed}']")
    await page.wait_for_url(f"{portal}/applications/{cases.confirmed}")
    assert await page.locator("h1").inner_text() == "VVS-assistent"
    text = await page.locator("main").inner_text()
    assert "Status: Forløbet er i gang" in text
    assert "Afgjort automatisk efter reglerne" in text
    assert "Rimelighedskravet" in text or "Forholdet mellem ordinært ansatte" in text, "each rule named in Danish"
    assert "Opfyldt" in text
    await _checked(page, screenshots, "employer-application")

    response = await page.goto(f"{portal}/applications/{cases.others}")
    assert response is not None and response.status == 404
    assert await page.locator("h1").inner_text() == "Siden findes ikke"
    assert "Lagermedarbejder" not in await page.content()
    await _checked(page, screenshots, "not-found")

    await page.goto(f"{portal}/applications/{cases.referred}")
    await page.click("a[lang='en']")
    await page.wait_for_url(f"{portal}/applications/{cases.referred}")
    assert await page.locator("html").get_attribute("lang") == "en"
    assert "Status: With a caseworker" in await page.locator("main").inner_text()
    await _checked(page, screenshots, "employer-application-referred-en")
    await page.click("a[lang='da']")
    await page.wait_for_url(f"{portal}/applications/{cases.referred}")
    assert "Status: Hos en sagsbehandler" in await page.locator("main").inner_text()

    await page.click("button.log-off")
    await page.wait_for_url(f"{portal}/logged-out")
    assert await page.locator("h1").inner_text() == "Du er logget af"
    await _checked(page, screenshots, "logged-out")
    await page.goto(f"{portal}/applications")
    assert "/realms/jobbro/protocol/openid-connect/auth" in page.url, "logged out of Keycloak too: asked to log in"


async def test_employer_gives_final_approval_by_signing_in_the_browser_and_an_expired_certificate_is_refused(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal, pki = portal_stack.service("portal").url, portal_stack.pki
    await _logged_in(page, f"{portal}/applications/{cases.approved}", logins.SIGNER)
    await page.click("a:has-text('Giv endelig godkendelse')")
    await page.wait_for_url(f"{portal}/applications/{cases.approved}/confirm")
    assert "Det underskriver du" in await page.locator("main").inner_text()
    await _checked(page, screenshots, "employer-confirm")

    response = await page.goto(f"{portal}/caseworker/overdue")
    assert response is not None and response.status == 403, "the caseworker's pages are not an employer's"
    await page.goto(f"{portal}/applications/{cases.approved}/confirm")
    await _sign(page, pki, "expired-12345678", "Underskriv og giv endelig godkendelse")
    await page.wait_for_selector("#error-summary")
    assert "Certifikatet var udløbet" in await page.locator("#error-summary").inner_text()
    await _checked(page, screenshots, "employer-confirm-expired")

    await _sign(page, pki, "employer-12345678", "Underskriv og giv endelig godkendelse")
    await page.wait_for_url(f"{portal}/applications/{cases.approved}?confirmed=1")
    text = await page.locator("main").inner_text()
    assert "Din endelige godkendelse er registreret" in text and "Status: Forløbet er i gang" in text
    await _checked(page, screenshots, "employer-confirmed")


async def test_employer_fills_in_the_steps_goes_back_and_on_signs_sees_the_decision_and_confirms(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal, pki = portal_stack.service("portal").url, portal_stack.pki
    await _logged_in(page, f"{portal}/applications", logins.SIGNER)
    await page.click("a:has-text('Søg om virksomhedspraktik')")
    await page.wait_for_url(f"{portal}/applications/new/scheme")
    assert await page.locator("ol.step-indicator li").count() == 6, "no wage step for an internship"
    assert "Ordning" in await page.locator("li.current [aria-current=step]").inner_text()
    await _checked(page, screenshots, "employer-new-application")
    await page.check("#applies_for-citizen")
    await _next(page, f"{portal}/applications/new/citizen")
    await page.click("button:has-text('Næste')")
    assert "Udfyld feltet." in await page.locator("#error-summary").inner_text()
    assert await page.locator("#citizen-cpr-error").count() == 1
    assert await page.locator("#employer-name").count() == 0, "only this step's fields"
    await _checked(page, screenshots, "employer-new-application-errors")

    start = date.today() + timedelta(days=21)
    values = _application_fields(
        "Kundeservicemedarbejder", "Besvare telefoner og hjælpe kunder i butikken.", "Job i kundeservice", days=13
    ) | {
        "#citizen-cpr": cases.applicant,
        "#hours": "20",
        "#hours_up-1-from_date": (start + timedelta(days=7)).isoformat(),
        "#hours_up-1-hours": "30",
    }
    await _through_steps(page, portal, values | {"#purpose-toward_job": "check"}, until="period")
    await _fill(page, values)
    await _checked(page, screenshots, "employer-new-application-hours")
    await page.click("button:has-text('Forrige')")
    await page.wait_for_url(f"{portal}/applications/new/workplace")
    assert await page.input_value("#employer-workplace") == values["#employer-workplace"], "what was typed is kept"
    await _through_steps(page, portal, {}, until="review")
    assert await page.locator("h1").inner_text() == "Tjek og underskriv ansøgningen"
    main = await page.locator("main").inner_text()
    assert "Kundeservicemedarbejder" in main and "Første stigning: fra" in main
    assert '"hours_per_week": "30"' in await page.content(), "the step up is part of what is signed"
    await _checked(page, screenshots, "employer-review")
    await page.click("a:has-text('Ret periode og timer')")
    await page.wait_for_url(f"{portal}/applications/new/period")
    assert await page.input_value("#hours_up-1-hours") == "30", "what was typed is kept"
    await page.fill("#hours_up-1-hours", "32")
    await _through_steps(page, portal, {}, until="review")

    await _sign(page, pki, "employer-12345678", "Underskriv og send ansøgningen")
    await page.wait_for_url(re.compile(r".*/applications/[0-9a-f-]{36}\?submitted=1$"))
    text = await page.locator("main").inner_text()
    assert "Din ansøgning er sendt" in text and "Kundeservicemedarbejder" in text and "32 timer om ugen" in text
    await _checked(page, screenshots, "employer-submitted")

    submitted = page.url.split("?")[0]
    for _ in range(_SETTLE_SECONDS * 2):
        if await page.locator("a:has-text('Giv endelig godkendelse')").count():
            break
        await asyncio.sleep(0.5)
        await page.goto(submitted)
    text = await page.locator("main").inner_text()
    assert "Afgjort automatisk efter reglerne" in text and "Status: Godkendt" in text, "the decision, with its rules"
    await page.click("a:has-text('Giv endelig godkendelse')")
    await _sign(page, pki, "employer-12345678", "Underskriv og giv endelig godkendelse")
    await page.wait_for_url(f"{submitted}?confirmed=1")
    assert "Status: Forløbet er i gang" in await page.locator("main").inner_text()


async def test_employer_applies_for_a_wage_subsidy_and_the_apis_refusal_lands_on_its_step(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal, pki = portal_stack.service("portal").url, portal_stack.pki
    await _logged_in(page, f"{portal}/applications", logins.SIGNER)
    await page.click("a:has-text('Søg om løntilskud')")
    await page.wait_for_url(f"{portal}/applications/new/scheme")
    assert await page.locator("h1").inner_text() == "Ordning"
    assert await page.is_checked("#scheme-wage_subsidy_private")
    values = _application_fields("Lagerassistent", "Varemodtagelse og pluk.", "Job på lager", days=90) | {
        "#applies_for-citizen": "check",
        "#municipality": "75",
        "#wage-hourly_wage_ore": "mange",
        "#wage-hourly_wage_costs_ore": "195,00",
        "#employer-headcounts_fte": "1 1 1 1 1 1 1 1 1 1 1 1",
    }
    await _through_steps(page, portal, values, until="wage")
    await _fill(page, values)
    assert await page.locator("#purpose-toward_job").count() == 0, "a wage subsidy states no purpose"
    await page.click("button:has-text('Næste')")
    assert "Skriv et beløb i kroner" in await page.locator("#error-summary").inner_text()
    assert await page.locator("#wage-hourly_wage_ore-error").count() == 1
    assert await page.input_value("#wage-hourly_wage_costs_ore") == "195,00", "what was typed is kept"
    await _checked(page, screenshots, "employer-new-wage-subsidy-errors")

    await page.fill("#wage-hourly_wage_ore", "160,00")
    await _through_steps(page, portal, {}, until="review")
    assert '"hourly_wage_ore": 16000' in await page.content()
    await _sign(page, pki, "employer-12345678", "Underskriv og send ansøgningen")
    await page.wait_for_url(f"{portal}/applications/new/workplace")
    assert "Tjek feltet" in await page.locator("#error-summary").inner_text(), "the API's problem, on its step"
    assert await page.locator("#municipality-error").count() == 1
    assert await page.locator("li.error").count() == 1, "the step indicator marks the step"
    await _checked(page, screenshots, "employer-new-wage-subsidy-refused")
    await page.fill("#municipality", MUNICIPALITY)
    await _through_steps(page, portal, {}, until="review")
    assert "Løntilskud, privat arbejdsgiver" in await page.locator("main").inner_text()
    await _checked(page, screenshots, "employer-review-wage-subsidy")
    await _sign(page, pki, "employer-12345678", "Underskriv og send ansøgningen")
    await page.wait_for_url(re.compile(r".*/applications/[0-9a-f-]{36}\?submitted=1$"))
    text = await page.locator("main").inner_text()
    assert "Din ansøgning er sendt" in text and "Lagerassistent" in text and "Timeløn" in text


async def test_employer_applies_for_a_position_and_names_its_citizen_signing_with_a_pkcs12_file(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None, tmp_path: Path
) -> None:
    portal, pki = portal_stack.service("portal").url, portal_stack.pki
    p12 = _pkcs12(pki, "employer-12345678", tmp_path / "hansen.p12", b"hemmelig")
    await _logged_in(page, f"{portal}/applications", logins.SIGNER)
    await page.click("a:has-text('Søg om virksomhedspraktik')")
    await page.wait_for_url(f"{portal}/applications/new/scheme")
    fields = _application_fields("Tømrerlærling", "Opmåling og montage.", "Job som tømrer", days=13)
    values = {key: value for key, value in fields.items() if not key.startswith("#citizen")}
    position = values | {"#applies_for-position": "check", "#purpose-toward_job": "check"}
    await _through_steps(page, portal, position, until="citizen")
    assert await page.locator("#citizen-cpr").count() == 0, "a position names no citizen yet"
    await _through_steps(page, portal, position, until="review")
    assert "En stilling" in await page.locator("main").inner_text() and '"citizen": null' in await page.content()

    await _sign_pkcs12(page, p12, "forkert", "Underskriv og send ansøgningen")
    await page.wait_for_selector("#sign-error:not([hidden])")
    assert "kunne ikke åbnes" in await page.locator("#sign-error").inner_text(), "a wrong passphrase says so"
    await _checked(page, screenshots, "employer-sign-pkcs12-passphrase")
    await _sign_pkcs12(page, p12, "hemmelig", "Underskriv og send ansøgningen")
    await page.wait_for_url(re.compile(r".*/applications/[0-9a-f-]{36}\?submitted=1$"))
    application_id = page.url.split("/applications/")[1].split("?")[0]
    for _ in range(_SETTLE_SECONDS * 2):
        if await page.locator("a:has-text('Navngiv borgeren')").count():
            break
        await asyncio.sleep(0.5)
        await page.goto(f"{portal}/applications/{application_id}")
    assert "Status: Stilling godkendt" in await page.locator("main").inner_text()
    await _checked(page, screenshots, "employer-position-approved")

    await page.click("a:has-text('Navngiv borgeren')")
    await page.wait_for_url(f"{portal}/applications/{application_id}/citizen")
    await _checked(page, screenshots, "employer-name-citizen")
    await page.fill("#cpr", "12")
    await page.click("button:has-text('Fortsæt til underskrift')")
    summary = await page.locator("#error-summary").inner_text()
    assert "Skriv CPR-nummeret som 10 cifre" in summary and "Udfyld feltet." in summary
    await _checked(page, screenshots, "employer-name-citizen-errors")
    cpr = citizens.random_cpr(date(1995, 8, 2))
    await page.fill("#cpr", cpr)
    await page.fill("#consent", "S-3001")
    await page.click("button:has-text('Fortsæt til underskrift')")
    assert cpr in await page.locator("main").inner_text(), "what is signed, the CPR number with it"

    await page.set_input_files("#key-file", pki / "employer-87654321.key.pem")
    await page.set_input_files("#chain-file", [pki / "employer-12345678.pem", pki / "ca.pem"])
    await page.click("button:has-text('Underskriv og navngiv borgeren')")
    await page.wait_for_selector("#error-summary")
    assert "Underskriften passer ikke til certifikatet" in await page.locator("#error-summary").inner_text()
    await _checked(page, screenshots, "employer-name-citizen-wrong-key")
    await _sign_pkcs12(page, p12, "hemmelig", "Underskriv og navngiv borgeren")
    await page.wait_for_url(f"{portal}/applications/{application_id}?named=1")
    assert "Borgeren er navngivet" in await page.locator("main").inner_text()
    await _checked(page, screenshots, "employer-citizen-named")


async def test_caseworker_decides_the_referred_case_of_the_municipality_with_reasons(
    portal_stack: Layout, cases: Cases, page: Page, browser: Browser, screenshots: Path | None
) -> None:
    portal = portal_stack.service("portal").url
    await _logged_in(page, f"{portal}/caseworker", logins.CASEWORKER, f"{portal}/caseworker")
    assert await page.locator("h1").inner_text() == "Sager til afgørelse"
    inbox = await page.locator("tbody").inner_text()
    assert "Lærling" in inbox and "12345678" in inbox
    assert "VVS-assistent" not in inbox, "only cases waiting for a caseworker"
    row = page.locator("tbody tr", has_text="Lærling")
    assert "rimelighedskravet" in await row.inner_text(), "the inbox names the rule the case was referred for"
    await _checked(page, screenshots, "caseworker-inbox")

    await page.select_option("#scheme", "wage_subsidy_private")
    await page.click("button:has-text('Vis sager')")
    await page.wait_for_url(re.compile(r".*/caseworker\?.*scheme=wage_subsidy_private"))
    assert "Ingen sager passer til filtrene." in await page.locator("main").inner_text(), "filtered on the server"
    await _checked(page, screenshots, "caseworker-inbox-filtered-empty")
    await page.select_option("#scheme", "internship")
    await page.select_option("#rule", "ratio")
    await page.select_option("#sort", "-submitted_at")
    await page.focus("#sort")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r".*/caseworker\?.*rule=ratio.*sort=-submitted_at"))
    assert "Lærling" in await page.locator("tbody").inner_text(), "the keyboard alone filters and sorts"
    assert await page.input_value("#rule") == "ratio", "the chosen filters stay chosen"
    await _checked(page, screenshots, "caseworker-inbox-filtered")

    await page.click("a:has-text('Borgere med overskredet tilbudsfrist')")
    await page.wait_for_url(f"{portal}/caseworker/overdue")
    assert await page.locator("h1").inner_text() == "Borgere med overskredet tilbudsfrist"
    overdue = page.locator("tbody tr", has_text="Forsikret ledig")
    assert await overdue.count() >= 1, "the Montør's citizen, on dagpenge for 220 days without an offer"
    await _checked(page, screenshots, "caseworker-overdue")
    await overdue.first.locator("a").click()
    await page.wait_for_url(re.compile(r".*/caseworker/citizens/c-[0-9a-f]+/plan$"))
    assert await page.locator("h1").inner_text() == "Borgerens plan"
    assert "dage over fristen" in await page.locator("main").inner_text()
    await _checked(page, screenshots, "caseworker-plan-overdue")
    response = await page.goto(f"{portal}/caseworker/citizens/c-0000000000000000/plan")
    assert response is not None and response.status == 404, "a citizen activation does not know"
    await page.goto(f"{portal}/caseworker")

    await page.click(f"a[href='/caseworker/applications/{cases.referred}']")
    await page.wait_for_url(f"{portal}/caseworker/applications/{cases.referred}")
    text = await page.locator("main").inner_text()
    assert "Status: Hos en sagsbehandler" in text
    assert "En sagsbehandler skal vurdere" in text or "Advarsel" in text, "the questioned rule is shown"
    assert "De oplysninger, reglerne brugte" in text, "a caseworker sees the facts the rules read"
    await _checked(page, screenshots, "caseworker-case")
    await page.click("a:has-text('Se borgerens plan')")
    await page.wait_for_url(re.compile(rf".*/caseworker/citizens/c-[0-9a-f]+/plan\?from={cases.referred}$"))
    assert "Ret og pligt til tilbud" in await page.locator("main").inner_text()
    await _checked(page, screenshots, "caseworker-plan")
    await page.click("a:has-text('Tilbage til sagen')")
    await page.wait_for_url(f"{portal}/caseworker/applications/{cases.referred}")

    await page.click("button:has-text('Registrér afgørelsen')")
    summary = page.locator("#error-summary")
    assert "Vælg, om ansøgningen skal godkendes eller afvises." in await summary.inner_text()
    assert "Skriv begrundelsen for afgørelsen" in await summary.inner_text()
    assert await page.locator("#remark-error").count() == 1, "the field's own message beside it"
    await _checked(page, screenshots, "caseworker-case-errors")

    colleague = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    second = await colleague.new_page()
    case_url = f"{portal}/caseworker/applications/{cases.referred}"
    await _logged_in(second, case_url, logins.CASEWORKER)
    await page.check("#verdict-approve")
    await page.fill("#remark", "Godkendt: praktikforløbene følger efter hinanden og overlapper ikke.")
    await page.click("button:has-text('Registrér afgørelsen')")
    await page.wait_for_url(f"{portal}/caseworker/applications/{cases.referred}?decided=1")
    await second.check("#verdict-reject")
    await second.fill("#remark", "Afvist: en anden læsning af sagen.")
    await second.click("button:has-text('Registrér afgørelsen')")
    summary = await second.locator("#error-summary").inner_text()
    await colleague.close()
    assert "Sagen er ændret, efter du åbnede den." in summary, "the colleague's older page does not overwrite"
    text = await page.locator("main").inner_text()
    assert "Din afgørelse er registreret" in text
    assert "Status: Godkendt" in text and "Godkendt: praktikforløbene" in text
    await _checked(page, screenshots, "caseworker-case-decided")
    await page.goto(f"{portal}/caseworker")
    assert "Lærling" not in await page.locator("main").inner_text(), "a decided case leaves the inbox"

    response = await page.goto(f"{portal}/applications")
    assert response is not None and response.status == 403, "the employer's pages are not a caseworker's"
    await _checked(page, screenshots, "wrong-role")


async def test_representative_approves_from_the_mailed_link_and_gets_a_receipt_and_the_link_is_then_used(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal = portal_stack.service("portal").url
    token = await _link_token(portal_stack.mail, cases.representative)
    await page.goto(f"{portal}/representative?token={token}")
    assert await page.locator("h1").inner_text() == "Godkend ansøgningen"
    text = await page.locator("main").inner_text()
    assert "Nordisk Logistik A/S" in text and "Lagermedarbejder" in text and "37 timer om ugen" in text
    await _checked(page, screenshots, "representative")

    await page.check("#answer-decline")
    await page.click("button:has-text('Send mit svar')")
    assert "Skriv, hvorfor du afviser" in await page.locator("#error-summary").inner_text()
    await _checked(page, screenshots, "representative-errors")

    await page.check("#answer-approve")
    await page.fill("#reason", "Vi har drøftet det på personalemødet.")
    await page.click("button:has-text('Send mit svar')")
    assert await page.locator("h1").inner_text() == "Dit svar er modtaget"
    assert "Du har godkendt ansøgningen." in await page.locator("main").inner_text()
    await _checked(page, screenshots, "representative-receipt")

    response = await page.goto(f"{portal}/representative?token={token}")
    assert response is not None and response.status == 409
    assert await page.locator("h1").inner_text() == "Linket er allerede brugt"
    await _checked(page, screenshots, "representative-link-used")

    response = await page.goto(f"{portal}/representative?token={token[:-4]}AAAA")
    assert response is not None and response.status == 404
    assert await page.locator("h1").inner_text() == "Linket virker ikke"
    logged = portal_stack.service("portal").log_file.read_text()
    assert '"path": "/representative"' in logged, "the portal logs its requests"
    assert token[-20:] not in logged and "token=" not in logged, "the link's token never reaches the log"
    assert "code=" not in logged, "nor the login's authorization code"


async def test_a_viewer_without_the_signing_right_sees_no_signing_step_and_a_forged_post_is_refused(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal = portal_stack.service("portal").url
    await _logged_in(page, f"{portal}/applications/{cases.confirmed}", logins.VIEWER)
    main = await page.locator("main").inner_text()
    assert "Status: Forløbet er i gang" in main
    assert "Forlæng forløbet" not in main and "Afslut forløbet" not in main, "no signed step for a viewer"
    await _checked(page, screenshots, "viewer-application")
    await page.goto(f"{portal}/applications/{cases.confirmed}/steps/extend")
    assert page.url == f"{portal}/applications/{cases.confirmed}", "the step's page is not offered either"

    csrf = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert csrf
    forged = await page.context.request.post(
        f"{portal}/applications/{cases.confirmed}/steps/extend",
        form={"csrf_token": csrf, "new_end": (date.today() + timedelta(days=30)).isoformat()},
    )
    assert forged.status == 403 and "Ikke for din rolle" in await forged.text()
    confirm = f"{portal}/applications/{cases.approved}/confirm"
    forged = await page.context.request.post(confirm, form={"csrf_token": csrf})
    assert forged.status == 403, "nor a final approval"


async def test_employer_changes_a_running_placement_ends_one_early_and_withdraws_an_approved_application(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal, today = portal_stack.service("portal").url, date.today()
    await _logged_in(page, f"{portal}/applications/{cases.confirmed}", logins.SIGNER)
    await _checked(page, screenshots, "employer-application-running")
    await page.click("a:has-text('Forlæng forløbet')")
    await page.wait_for_url(f"{portal}/applications/{cases.confirmed}/steps/extend")
    await _checked(page, screenshots, "employer-extend")
    await page.fill("#new_end", today.isoformat())
    await page.click("button:has-text('Forlæng forløbet')")
    summary = await page.locator("#error-summary").inner_text()
    assert "Den nye slutdato skal ligge efter den nuværende slutdato." in summary, "the API's refusal, in Danish"
    assert await page.locator("#new_end-error").count() == 1
    await _checked(page, screenshots, "employer-extend-errors")

    await page.goto(f"{portal}/applications/{cases.confirmed}/steps/hours")
    await page.fill("#from_date", (today + timedelta(days=3)).isoformat())
    await page.fill("#hours_per_week", "abc")
    await page.click("button:has-text('Ændr timerne')")
    assert "Skriv et tal" in await page.locator("#error-summary").inner_text()
    await page.fill("#hours_per_week", "30,5")
    await page.click("button:has-text('Ændr timerne')")
    await page.wait_for_url(f"{portal}/applications/{cases.confirmed}?changed=hours")
    main = await page.locator("main").inner_text()
    assert "Det nye timetal pr. uge er registreret." in main and "30,5 timer om ugen" in main
    await _checked(page, screenshots, "employer-hours-changed")

    await page.goto(f"{portal}/applications/{cases.approved}/steps/end")
    await page.fill("#last_day", (today + timedelta(days=10)).isoformat())
    await page.click("button:has-text('Afslut forløbet')")
    assert "Vælg en årsag" in await page.locator("#error-summary").inner_text(), "an early end needs a reason"
    await _checked(page, screenshots, "employer-end-errors")
    await page.select_option("#reason", "illness")
    await page.click("button:has-text('Afslut forløbet')")
    await page.wait_for_url(f"{portal}/applications/{cases.approved}?changed=end")
    assert "Forløbets afslutning er registreret." in await page.locator("main").inner_text()

    await page.goto(f"{portal}/applications/{cases.referred}")
    await page.click("a:has-text('Træk ansøgningen tilbage')")
    await page.wait_for_url(f"{portal}/applications/{cases.referred}/steps/withdraw")
    await _checked(page, screenshots, "employer-withdraw")
    await page.fill("#reason", "Lærlingen har fået en læreplads et andet sted.")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{portal}/applications/{cases.referred}?changed=withdraw")
    main = await page.locator("main").inner_text()
    assert "Ansøgningen er trukket tilbage." in main and "Træk ansøgningen tilbage" not in main
    await _checked(page, screenshots, "employer-withdrawn")


async def test_employer_reports_a_months_wages_of_a_running_wage_subsidy(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal, today = portal_stack.service("portal").url, date.today()
    await _logged_in(page, f"{portal}/applications/{cases.wage_subsidy}", logins.SIGNER)
    assert "Status: Forløbet er i gang" in await page.locator("main").inner_text()
    await page.click("a:has-text('Indberet en måneds løn')")
    await page.wait_for_url(f"{portal}/applications/{cases.wage_subsidy}/steps/wages")
    await _checked(page, screenshots, "employer-wage-report")
    await page.fill("#month", f"{today:%Y-%m}")
    await page.fill("#paid_hours", "148")
    await page.fill("#wage_costs_ore", "28.860,00")
    await page.click("button:has-text('Send lønindberetningen')")
    assert "En måned kan indberettes, når den er slut." in await page.locator("#error-summary").inner_text()
    assert await page.locator("#month-error").count() == 1, "the API's refusal on its field, in Danish"
    await _checked(page, screenshots, "employer-wage-report-errors")

    last_month = today.replace(day=1) - timedelta(days=1)
    await page.fill("#month", f"{last_month:%Y-%m}")
    await page.click("button:has-text('Send lønindberetningen')")
    await page.wait_for_url(f"{portal}/applications/{cases.wage_subsidy}?changed=wages")
    assert "Lønindberetningen er registreret." in await page.locator("main").inner_text()
    await _checked(page, screenshots, "employer-wage-reported")


async def test_manager_sees_the_municipalitys_statistics_as_charts_with_tables(
    portal_stack: Layout, cases: Cases, page: Page, screenshots: Path | None
) -> None:
    portal = portal_stack.service("portal").url
    await _logged_in(page, f"{portal}/", logins.MANAGER, f"{portal}/dashboard")
    assert await page.locator("h1").inner_text() == "Statistik for jobcentret"
    tables = await page.locator("main table").all_inner_texts()
    assert any("Virksomhedspraktik" in table for table in tables), tables
    assert any("Dagpenge" in table for table in tables), "the confirmed intern's target group is counted"
    assert await page.locator("svg.bar-chart").count() == 2
    await _checked(page, screenshots, "manager-dashboard")


async def test_the_keyboard_reaches_the_skip_link_first_and_it_leads_to_the_content(
    portal_stack: Layout, page: Page
) -> None:
    await page.goto(portal_stack.service("portal").url + "/logged-out")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.className") == "skipnav"
    assert await page.evaluate("document.activeElement.textContent") == "Gå til sidens indhold"
    await page.keyboard.press("Enter")
    assert page.url.endswith("#main-content")
    assert await page.evaluate("document.activeElement.id") == "main-content"


async def test_a_login_that_returns_with_an_unknown_state_is_refused(portal_stack: Layout, page: Page) -> None:
    portal = portal_stack.service("portal").url
    response = await page.goto(f"{portal}/auth/callback?state=forged&code=stolen")
    assert response is not None and response.status == 400
    assert await page.locator("h1").inner_text() == "Login blev ikke gennemført"
    await assert_accessible(page)


def _application_fields(position: str, tasks: str, goal: str, *, days: int) -> dict[str, str]:
    """The application form's fields as Hansen VVS fills them: a fresh citizen and P-number, 37 hours a week."""
    start = date.today() + timedelta(days=21)
    return {
        "#citizen-cpr": citizens.random_cpr(date(1988, 3, 14)),
        "#citizen-consent_reference": "S-2291",
        "#employer-name": "Hansen VVS ApS",
        "#employer-production_unit": _p_number(),
        "#employer-workplace": "Smedevej 7, 8000 Aarhus C",
        "#employer-company_employees": "1",
        "#employer-ordinary_employees_fte": "1",
        "#municipality": MUNICIPALITY,
        "#position_title": position,
        "#tasks": tasks,
        "#employment_goal": goal,
        "#period-start": start.isoformat(),
        "#period-end": (start + timedelta(days=days)).isoformat(),
        "#hours": "37",
    }


async def _next(page: Page, url: str) -> None:
    async with page.expect_navigation():
        await page.click("button:has-text('Næste')")
    assert page.url == url, await page.locator("main").inner_text()


async def _through_steps(page: Page, portal: str, values: dict[str, str], *, until: str) -> None:
    """On each step of the application form fill what `values` has for it, and go on until the step `until`."""
    for _step in range(8):
        if page.url == f"{portal}/applications/new/{until}":
            return
        await _fill(page, values)
        async with page.expect_navigation():
            await page.click("button:has-text('Næste')")
        assert await page.locator("#error-summary").count() == 0, await page.locator("main").inner_text()
    raise AssertionError(f"the form did not reach its step {until}: {page.url}")


async def _fill(page: Page, values: dict[str, str]) -> None:
    """Fill those of `values` the page has ("check" a radio)."""
    for selector, value in values.items():
        if await page.locator(selector).count():
            await (page.check(selector) if value == "check" else page.fill(selector, value))


async def _sign(page: Page, pki: Path, name: str, button: str) -> None:
    """Choose the development PKI's key `name` and its chain (certificate, then the CA) and press `button`."""
    await page.set_input_files("#key-file", pki / f"{name}.key.pem")
    await page.set_input_files("#chain-file", [pki / f"{name}.pem", pki / "ca.pem"])
    await page.click(f"button:has-text('{button}')")


async def _sign_pkcs12(page: Page, p12: Path, passphrase: str, button: str) -> None:
    """Choose a PKCS#12 file alone (it holds the chain), type its passphrase and press `button`."""
    await page.set_input_files("#key-file", p12)
    await page.set_input_files("#chain-file", [])
    await page.fill("#passphrase", passphrase)
    await page.click(f"button:has-text('{button}')")


def _pkcs12(pki: Path, name: str, out: Path, passphrase: bytes) -> Path:
    """The development PKI's key `name` with its certificate and the CA in a PKCS#12 file, as a CA hands it out."""
    key = serialization.load_pem_private_key((pki / f"{name}.key.pem").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = x509.load_pem_x509_certificate((pki / f"{name}.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    encryption = serialization.BestAvailableEncryption(passphrase)
    out.write_bytes(pkcs12.serialize_key_and_certificates(name.encode(), key, cert, [ca], encryption))
    return out


async def _logged_in(page: Page, url: str, username: str, lands_on: str | None = None) -> None:
    """Open `url`, log in at Keycloak's form as `username`, and wait to be back (on `lands_on`, else `url`)."""
    await page.goto(url)
    await log_in(page, username)
    await page.wait_for_url(lands_on or url)


async def _checked(page: Page, screenshots: Path | None, name: str) -> None:
    """axe-core at full width and at 320 px, and the page's pictures when screenshots are asked for."""
    await assert_accessible(page)
    if screenshots:
        screenshots.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    await assert_fits(page, 320)
    await assert_accessible(page)
    if screenshots:
        await page.screenshot(path=screenshots / f"{name}-320.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})


async def _make_cases(http: httpx.AsyncClient, layout: Layout, accounts: logins.Logins) -> Cases:
    today = date.today()
    first = citizens.citizen("dagpenge", "dagpenge", "dagpenge", 1_972_800, unemployed_since=today - timedelta(90))
    second = citizens.citizen(
        "kontanthjælp", "kontanthjaelp", "kontanthjaelp_job_ready", 1_250_000, unemployed_since=today - timedelta(200)
    )
    third = citizens.citizen("dagpenge", "dagpenge", "dagpenge", 1_972_800, unemployed_since=today - timedelta(220))
    fifth = citizens.citizen("dagpenge", "dagpenge", "dagpenge", 1_972_800, unemployed_since=today - timedelta(90))
    fourth = citizens.citizen(
        "kontanthjælp", "kontanthjaelp", "kontanthjaelp_job_ready", 1_250_000, unemployed_since=today - timedelta(420)
    )
    imported = await http.post(
        layout.service("benefits").url + "/v1/admin/citizens/import",
        json=[
            first.row(MUNICIPALITY),
            second.row(MUNICIPALITY),
            third.row(MUNICIPALITY),
            fourth.row(MUNICIPALITY),
            fifth.row(MUNICIPALITY),
        ],
        headers=await accounts.headers(logins.OPERATOR),
    )
    assert imported.status_code == 200, imported.text
    hansen = _company(layout, "12345678", "Hansen VVS ApS", "Industrivej 1, 8000 Aarhus C", employees=1)
    nordisk = _company(layout, "87654321", "Nordisk Logistik A/S", "Havnevej 12, 8000 Aarhus C", employees=35)
    subsidy = layout.service("subsidy").url
    employer = await accounts.headers(logins.SIGNER)

    async def submit(who: application.Employer, user: str, form: dict[str, Any]) -> str:
        body = {"application": form, "signature": who.sign(form)}
        headers = {**await accounts.headers(user), "Idempotency-Key": str(uuid4())}
        response = await http.post(f"{subsidy}/v1/applications", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def settled(application_id: str, state: str) -> None:
        found = ""
        for _ in range(_SETTLE_SECONDS * 2):
            response = await http.get(f"{subsidy}/v1/applications/{application_id}", headers=employer)
            found = response.json()["state"]
            if found == state:
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"application {application_id} is {found}, not {state}")

    internship = application.internship(
        hansen, first.cpr, start=today, weeks=2, municipality=MUNICIPALITY, position="VVS-assistent"
    )
    confirmed = await submit(hansen, logins.SIGNER, internship)
    await settled(confirmed, "approved")
    signature = hansen.sign(application.confirmation(UUID(confirmed), hansen.cvr))
    answer = await http.post(
        f"{subsidy}/v1/applications/{confirmed}/confirmation", json={"signature": signature}, headers=employer
    )
    assert answer.status_code == 200, answer.text

    overridden = application.internship(
        hansen,
        second.cpr,
        start=today + timedelta(days=14),
        weeks=2,
        municipality=MUNICIPALITY,
        position="Lærling",
        ratio_override_remark="Vores første praktikant slutter dagen før denne praktik begynder.",
    )
    referred = await submit(hansen, logins.SIGNER, overridden)
    await settled(referred, "referred")

    theirs = application.internship(
        nordisk,
        citizens.random_cpr(date(1990, 5, 17)),
        start=today,
        weeks=2,
        municipality=MUNICIPALITY,
        position="Lagermedarbejder",
    )
    workshop = _company(layout, "12345678", "Hansen VVS ApS", "Værkstedsvej 3, 8200 Aarhus N", employees=1)
    elsewhere = application.internship(
        workshop, third.cpr, start=today + timedelta(days=7), weeks=2, municipality=MUNICIPALITY, position="Montør"
    )
    approved = await submit(workshop, logins.SIGNER, elsewhere)
    await settled(approved, "approved")

    representative = f"tillid.{secrets.token_hex(4)}@nordisk-logistik.example"
    theirs["representative"] = {"name": "Mette Jensen", "email": representative}
    others = await submit(nordisk, logins.OTHER_SIGNER, theirs)
    caseworker = await accounts.headers(logins.CASEWORKER)
    running = await _running_wage_subsidy(http, layout, fourth.cpr, employer, caseworker, submit, settled)
    return Cases(
        confirmed=confirmed,
        referred=referred,
        others=others,
        representative=representative,
        approved=approved,
        wage_subsidy=running,
        applicant=fifth.cpr,
    )


async def _running_wage_subsidy(
    http: httpx.AsyncClient,
    layout: Layout,
    cpr: str,
    employer: dict[str, str],
    caseworker: dict[str, str],
    submit: Callable[[application.Employer, str, dict[str, Any]], Awaitable[str]],
    settled: Callable[[str, str], Awaitable[None]],
) -> str:
    """Hansen VVS's wage subsidy from the first day of last month, approved and confirmed: a running placement
    with a month that is over, so its wages can be reported. It starts before the decision, so the rules refer it
    and a caseworker approves it with a justified exception."""
    start = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    store = _company(layout, "12345678", "Hansen VVS ApS", "Butiksgade 9, 8000 Aarhus C", employees=1)
    form = application.wage_subsidy(
        store,
        cpr,
        start=start,
        end=start + timedelta(days=120),
        municipality=MUNICIPALITY,
        position="Butiksassistent",
        representative=("", ""),
    )
    del form["representative"]  # one employee: no representative to ask
    running = await submit(store, logins.SIGNER, form)
    await settled(running, "referred")
    exception = {"justification": "Ansat efter jobcentrets skriftlige tilsagn, før ansøgningen blev sendt."}
    decided = await http.post(
        f"{layout.service('subsidy').url}/v1/applications/{running}/caseworker-decision",
        json={"approve": True, "remark": "Godkendt med undtagelse for starten.", "start_exception": exception},
        headers=caseworker,
    )
    assert decided.status_code == 200, decided.text
    signature = store.sign(application.confirmation(UUID(running), store.cvr))
    answer = await http.post(
        f"{layout.service('subsidy').url}/v1/applications/{running}/confirmation",
        json={"signature": signature},
        headers=employer,
    )
    assert answer.status_code == 200, answer.text
    return running


def _company(layout: Layout, cvr: str, name: str, workplace: str, *, employees: int) -> application.Employer:
    """A development employer signing with the stack's certificate for `cvr`, at a fresh production unit."""
    fte = f"{max(employees - 5, 1)}.00"
    return application.load_employer(
        layout.pki,
        cvr,
        name=name,
        workplace=workplace,
        company_employees=employees,
        production_unit=_p_number(),
        ordinary_fte=fte,
        email=None,
    )


async def _link_token(folder: Path, address: str) -> str:
    """The token of the approval link in the mail notify sent the representative (read from the mail sink)."""
    for _ in range(_SETTLE_SECONDS * 2):
        found = [mail for mail in mailbox.mails(folder) if mail.to == address]
        link = found[0].link("token=") if found else None
        if link:
            return httpx.URL(link).params["token"]
        await asyncio.sleep(0.5)
    raise AssertionError(f"no mail with an approval link to {address} in {folder}")


def _p_number() -> str:
    """A fresh production unit, so the ratio rule counts this test's placements only."""
    return "10" + "".join(str(secrets.randbelow(10)) for _ in range(8))


async def test_axe_reports_what_it_should(page: Page) -> None:
    """The accessibility check can fail: an unlabelled field and an image without text are violations."""
    await page.set_content('<html lang="da"><body><main><img src="x.png"><input type="text"></main></body></html>')
    with pytest.raises(AssertionError, match="image-alt"):
        await assert_accessible(page)
