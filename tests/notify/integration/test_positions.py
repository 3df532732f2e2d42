"""An application for a position: told before any citizen is named, and completed when the employer names one."""

import json
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

from contracts.common import Period
from contracts.examples import example
from contracts.subsidy import (
    ApplicationApproved,
    PositionApplicationSubmitted,
    PositionDecided,
    RepresentativeApprovalRequested,
)
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import publish
from services.notify.settings import NotifySettings
from tests.notify.integration.conftest import (
    Mailbox,
    SettingsFactory,
    about,
    notifications,
    running_notify,
    sealed_link,
    submitted,
)


def position(**changes: Any) -> PositionApplicationSubmitted:
    """An application for a position at a company of 35 employees, with fresh ids, as subsidy publishes it."""
    values = {
        "application_id": uuid4(),
        "period": Period(start=date(2026, 3, 2), end=date(2026, 5, 29)),
        "ordinary_employees_fte": Decimal("35.00"),
    }
    return example(PositionApplicationSubmitted).model_copy(update=values | changes)


def approval_requested(
    application: PositionApplicationSubmitted, settings: NotifySettings
) -> RepresentativeApprovalRequested:
    request_id, to = uuid4(), f"rep-{uuid4().hex[:8]}@employer.example"
    return example(RepresentativeApprovalRequested).model_copy(
        update={
            "application_id": application.application_id,
            "request_id": request_id,
            "representative_email": to,
            "sealed_link": sealed_link(settings, request_id, to, "the.link.token"),
        }
    )


async def test_the_representative_and_the_employer_are_told_once_and_the_citizen_once_named(
    kafka: KafkaAccess, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    application = position(employer_email=f"hr-{uuid4().hex[:8]}@employer.example")
    settings = settings_for(smtp_port=port)
    request = approval_requested(application, settings)
    decided = example(PositionDecided).model_copy(update={"application_id": application.application_id})
    named = submitted(application_id=application.application_id, employer_email=application.employer_email)
    approved = about(ApplicationApproved, named)
    async with running_notify(settings):
        await publish(
            kafka,
            topic_prefix,
            *(application, application, request, request, decided, decided),
            *(named, application, named, approved),  # a late repeat of the position keeps the citizen named
        )
        told = await notifications(kafka, topic_prefix, expect=4)

    assert Counter((e.recipient_role, e.channel, e.template) for e in told) == {
        ("representative", "email", "approval-requested.representative.v1"): 1,
        ("employer", "email", "position-approved.employer.v1"): 1,
        ("employer", "email", "application-approved.employer.v1"): 1,
        ("citizen", "digital_post", "application-approved.citizen.v1"): 1,
    }
    [to_representative] = box.to(request.representative_email)
    assert f"{settings.link_url}?token=the.link.token" in to_representative.get_content()
    assert to_representative["Subject"] == "Godkend ansøgning om løntilskud hos Hansen VVS ApS"
    to_employer = box.to(application.employer_email)
    assert [mail["Subject"] for mail in to_employer] == [
        "Stilling godkendt: løntilskud som VVS-assistent",
        "Ansøgning godkendt: giv den endelige godkendelse",
    ]
    assert len(box.messages) == 3
    [letter] = [json.loads(f.read_text()) for f in Path(settings.digital_post_dir).iterdir()]
    assert (letter["recipient_kind"], letter["recipient"]) == ("citizen_ref", named.citizen_ref)
    assert letter["letter_id"] == f"application-approved:{application.application_id}:citizen:digital_post"


async def test_an_employer_without_e_mail_gets_the_decision_on_the_position_by_digital_post_once(
    kafka: KafkaAccess, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    application = position(employer_email=None)
    decided = example(PositionDecided).model_copy(update={"application_id": application.application_id})
    settings = settings_for(smtp_port=port)
    async with running_notify(settings):
        await publish(kafka, topic_prefix, application, decided, application, decided)
        told = await notifications(kafka, topic_prefix, expect=1)

    assert [(e.recipient_role, e.channel, e.template) for e in told] == [
        ("employer", "digital_post", "position-approved.employer.v1")
    ]
    [letter] = [json.loads(f.read_text()) for f in Path(settings.digital_post_dir).iterdir()]
    assert (letter["recipient_kind"], letter["recipient"]) == ("cvr", application.employer_cvr)
    assert letter["letter_id"] == f"position-approved:{application.application_id}:position:employer:digital_post"
    assert box.messages == []
