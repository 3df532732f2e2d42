"""Every notice renders in every language: a missing or broken template fails here, not at run time."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.common import Language
from contracts.examples import example
from services.notify import notices
from services.notify.domain import Audience, Channel, Notice, Recipient, Role, UnknownApplication
from services.notify.render import Renderer, TemplateError, template_names

CASEWORKER = Recipient(Role.CASEWORKER, Channel.EMAIL, "jobcenter@kommune.example", "da")
LANGUAGES = [language.value for language in Language]


def _audience(employer_email: str | None = "ansoegning@hansen-vvs.dk") -> Audience:
    return Audience(
        application_id=uuid4(),
        scheme="wage_subsidy_private",
        position_title="VVS-assistent",
        start=date(2026, 3, 2),
        end=date(2026, 5, 29),
        citizen_ref="c-5f2b7e0a9d134c68",
        citizen_language="da",
        employer_cvr="12345678",
        employer_name="Hansen VVS ApS",
        employer_email=employer_email,
        employer_language="en",
    )


def _every_notice(audience: Audience | None) -> list[Notice]:
    """The notices each event type's example gives; rules that need a known application are left out without one."""
    given = []
    for model, rule in notices.RULES.items():
        try:
            given.extend(rule(example(model), audience, CASEWORKER))
        except UnknownApplication:
            assert audience is None
    return given


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("https://jobbro.example/")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("known", [True, False], ids=["application known", "application unknown"])
def test_every_notice_renders_in_every_language(renderer: Renderer, language: str, known: bool) -> None:
    given = _every_notice(_audience() if known else None)
    assert given
    for notice in given:
        message = renderer.render(notice.template, language, notice.facts)
        assert message.subject and "\n" not in message.subject, notice.template
        assert message.body.strip() and "None" not in message.body, notice.template


def test_every_template_is_used_and_both_languages_have_the_same_ones() -> None:
    used = {notice.template for notice in _every_notice(_audience()) + _every_notice(_audience(employer_email=None))}
    assert {language: template_names(language) for language in LANGUAGES} == {language: used for language in LANGUAGES}


def test_the_recipients_language_picks_the_template(renderer: Renderer) -> None:
    employer = next(n for n in _every_notice(_audience()) if n.template == "application-approved.employer.v1")
    assert employer.language == "en"
    assert renderer.render(employer.template, "en", employer.facts).subject.startswith("Application approved")
    assert renderer.render(employer.template, "da", employer.facts).subject.startswith("Ansøgning godkendt")


def test_a_template_that_renders_no_subject_line_is_an_error(renderer: Renderer) -> None:
    with pytest.raises(TemplateError):
        renderer.render("_words", "da", {})


def test_the_approval_request_carries_the_signed_link_only_to_the_representative(renderer: Renderer) -> None:
    approval_request = next(n for n in _every_notice(_audience()) if n.recipient.role is Role.REPRESENTATIVE)
    message = renderer.render(approval_request.template, "da", approval_request.facts)
    assert approval_request.facts["event"]["approval_url"] in message.body
    assert approval_request.recipient.channel is Channel.EMAIL
