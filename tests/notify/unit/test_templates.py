"""Every notice renders in every language: a missing or broken template fails here, not at run time."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from contracts.common import HoursStep, Language
from contracts.envelope import Event
from contracts.examples import example
from contracts.subsidy import (
    ApplicationReferred,
    ChangeKind,
    PlacementChangeRejected,
    PositionDecided,
    PositionVerdict,
    ReferredChange,
    RepresentativeApprovalRequested,
)
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


def _position(audience: Audience) -> Audience:
    """The audience of an application for a position: no citizen named yet."""
    return replace(audience, citizen_ref=None, citizen_language=None)


def _examples(model: type[Event]) -> list[Event]:
    """The example of the event type, and for a position's decision one of each verdict."""
    event = example(model)
    if not isinstance(event, PositionDecided):
        return [event]
    reasons = (event.rule_results[0].model_copy(update={"passed": False}),)
    return [event] + [
        event.model_copy(update={"verdict": verdict, "reasons": reasons})
        for verdict in (PositionVerdict.REJECTED, PositionVerdict.REFERRED)
    ]


def _every_notice(audience: Audience | None) -> list[Notice]:
    """The notices each event type's examples give; rules that need a known application (or citizen) are left out."""
    given = []
    for model, rule in notices.RULES.items():
        for event in _examples(model):
            try:
                given.extend(rule(event, audience, CASEWORKER))
            except UnknownApplication:
                assert audience is None or audience.citizen_ref is None
    return given


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer("https://jobbro.example/")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("known", ["application", "position", None], ids=["application", "position", "unknown"])
@pytest.mark.parametrize("employer_email", ["ansoegning@hansen-vvs.dk", None], ids=["e-mail", "digital post"])
def test_every_notice_renders_in_every_language(
    renderer: Renderer, language: str, known: str | None, employer_email: str | None
) -> None:
    audience = _audience(employer_email)
    given = _every_notice({"application": audience, "position": _position(audience), None: None}[known])
    assert given
    for notice in given:
        message = renderer.render(notice.template, language, notice.facts)
        assert message.subject and "\n" not in message.subject, notice.template
        assert message.body.strip() and "None" not in message.body, notice.template


def test_every_template_is_used_and_both_languages_have_the_same_ones() -> None:
    audiences = [_audience(), _audience(employer_email=None)]
    used = {notice.template for audience in audiences for notice in _every_notice(audience)}
    assert {language: template_names(language) for language in LANGUAGES} == {language: used for language in LANGUAGES}


def test_the_recipients_language_picks_the_template(renderer: Renderer) -> None:
    employer = next(n for n in _every_notice(_audience()) if n.template == "application-approved.employer.v1")
    assert employer.language == "en"
    assert renderer.render(employer.template, "en", employer.facts).subject.startswith("Application approved")
    assert renderer.render(employer.template, "da", employer.facts).subject.startswith("Ansøgning godkendt")


def test_a_template_that_renders_no_subject_line_is_an_error(renderer: Renderer) -> None:
    with pytest.raises(TemplateError):
        renderer.render("_words", "da", {})


def test_the_approval_request_carries_the_opened_link_only_to_the_representative(renderer: Renderer) -> None:
    link = "https://jobbro.example/v1/representative-approval?token=a.b.c"
    event = example(RepresentativeApprovalRequested).model_copy(update={"approval_url": link})
    [approval_request] = notices.RULES[RepresentativeApprovalRequested](event, _audience(), CASEWORKER)
    message = renderer.render(approval_request.template, "da", approval_request.facts)
    assert link in message.body
    assert approval_request.recipient.role is Role.REPRESENTATIVE
    assert approval_request.recipient.channel is Channel.EMAIL


def test_a_position_tells_the_representative_and_the_employer_but_no_citizen() -> None:
    given = _every_notice(_position(_audience()))
    assert {notice.template for notice in given} >= {
        "approval-requested.representative.v1",
        "position-approved.employer.v1",
        "position-rejected.employer.v1",
        "application-referred.employer.v1",
        "application-referred.caseworker.v1",
    }
    # a benefit adjustment names its citizen itself; nothing else reaches a citizen the position does not name
    assert {n.template for n in given if n.recipient.role is Role.CITIZEN} == {"benefit-adjusted.citizen.v1"}


def test_a_rejected_position_gives_its_reasons_by_digital_post_and_only_a_link_by_e_mail(renderer: Renderer) -> None:
    def rejection(employer_email: str | None) -> str:
        notice = next(
            n for n in _every_notice(_position(_audience(employer_email))) if n.template.startswith("position-rejected")
        )
        return renderer.render(notice.template, "da", notice.facts).body

    reason = next(e for e in _examples(PositionDecided) if e.reasons).reasons[0].reason
    assert reason in rejection(None)
    assert reason not in rejection("ansoegning@hansen-vvs.dk")


@pytest.mark.parametrize(
    ("change", "da", "en"),
    [
        (
            ReferredChange(kind=ChangeKind.EXTENSION, new_end=date(2026, 8, 28)),
            "forlængelse til 28. august 2026",
            "an extension to 28 August 2026",
        ),
        (
            ReferredChange(
                kind=ChangeKind.HOURS,
                weekly_hours=(HoursStep(from_date=date(2026, 4, 6), hours_per_week=Decimal("22.5")),),
            ),
            "ugentlige timer ændret til 22,50 fra 6. april 2026",
            "weekly hours changed to 22.50 from 6 April 2026",
        ),
    ],
    ids=["extension", "hours"],
)
def test_a_referred_change_is_named_in_the_subject_and_text_not_told_as_a_new_application(
    renderer: Renderer, change: ReferredChange, da: str, en: str
) -> None:
    event = example(ApplicationReferred).model_copy(update={"change": change})
    referred = notices.RULES[ApplicationReferred](event, _audience(), CASEWORKER)
    assert {n.recipient.role for n in referred} == {Role.EMPLOYER, Role.CASEWORKER}
    for notice in referred:
        for language, named in (("da", da), ("en", en)):
            message = renderer.render(notice.template, language, notice.facts)
            assert named in message.subject and named in message.body
            assert "ansøgning" not in message.subject.lower() and "application" not in message.subject.lower()


def test_a_rejected_change_tells_the_employer_naming_it_with_the_reasons_by_digital_post_only(
    renderer: Renderer,
) -> None:
    event = example(PlacementChangeRejected)

    def told(employer_email: str | None) -> Notice:
        [notice] = notices.RULES[PlacementChangeRejected](event, _audience(employer_email), CASEWORKER)
        assert notice.recipient.role is Role.EMPLOYER
        return notice

    by_mail, by_post = told("ansoegning@hansen-vvs.dk"), told(None)
    for language, named in (("da", "forlængelse til 28. august 2026"), ("en", "an extension to 28 August 2026")):
        mail = renderer.render(by_mail.template, language, by_mail.facts)
        assert named in mail.subject and named in mail.body and event.remark not in mail.body
    assert event.remark in renderer.render(by_post.template, "da", by_post.facts).body
