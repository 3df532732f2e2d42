"""E-mail on a real SMTP server on loopback: the right template and language, one mail however often the event comes."""

from collections import Counter
from datetime import date
from typing import Any
from uuid import uuid4

from aiosmtpd.controller import Controller

from contracts.common import Language
from contracts.notify import NotificationFailed, NotificationSent
from contracts.subsidy import (
    ApplicationApproved,
    ApplicationReferred,
    ChangeKind,
    PlacementChangeRejected,
    PlacementExtended,
    ReferredChange,
    RepresentativeApprovalRequested,
)
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import publish
from services.notify.domain import Channel, Delivery, Recipient, Role
from services.notify.email import SmtpMailer
from tests.example.process import free_port
from tests.notify.integration.conftest import (
    Mailbox,
    SettingsFactory,
    about,
    notifications,
    running_notify,
    sealed_link,
    submitted,
)


async def test_the_employer_is_mailed_once_in_english_though_the_approval_arrives_twice(
    kafka: KafkaAccess, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    application = submitted(employer_email=f"hr-{uuid4().hex[:8]}@employer.example", employer_language=Language.EN)
    approved = about(ApplicationApproved, application)
    later = about(PlacementExtended, application)  # recorded after anything the repeat could have recorded
    async with running_notify(settings_for(smtp_port=port)):
        await publish(kafka, topic_prefix, application, approved, approved, later)
        told = await notifications(kafka, topic_prefix, expect=3)

    assert all(isinstance(event, NotificationSent) for event in told)
    assert Counter((e.recipient_role, e.channel, e.template) for e in told) == {
        ("employer", "email", "application-approved.employer.v1"): 1,
        ("citizen", "digital_post", "application-approved.citizen.v1"): 1,
        ("citizen", "digital_post", "placement-extended.citizen.v1"): 1,
    }
    [mail] = box.messages
    key = f"application-approved:{application.application_id}:employer:email"
    assert mail["To"] == application.employer_email
    assert mail["Subject"] == "Application approved: please give your final approval"
    assert mail["Content-Language"] == "en"
    assert mail["Message-ID"] == f"<{key.replace(':', '.')}@notify.jobbro.example>"
    assert mail["Jobbro-Delivery-Id"] == key
    assert f"https://jobbro.example/applications/{application.application_id}/confirm" in mail.get_content()
    assert key in {event.dedup_key for event in told}


async def test_the_representative_gets_the_signed_link_and_the_team_mailbox_the_referral_in_danish(
    kafka: KafkaAccess, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    team = f"jobcenter-{uuid4().hex[:8]}@kommune.example"
    application = submitted(employer_email=f"hr-{uuid4().hex[:8]}@employer.example")
    request_id, representative = uuid4(), f"rep-{uuid4().hex[:8]}@employer.example"
    settings = settings_for(smtp_port=port, caseworker_mailbox=team)
    request = about(
        RepresentativeApprovalRequested,
        application,
        request_id=request_id,
        representative_email=representative,
        sealed_link=sealed_link(settings, request_id, representative, "the.link.token"),
    )
    referred = about(ApplicationReferred, application, change=None)  # the application itself
    async with running_notify(settings):
        await publish(kafka, topic_prefix, application, request, referred)
        await notifications(kafka, topic_prefix, expect=3)

    [to_representative] = box.to(request.representative_email)
    assert to_representative["Subject"] == "Godkend ansøgning om løntilskud hos Hansen VVS ApS"
    assert to_representative["Content-Language"] == "da"
    assert "https://jobbro.example/representative?token=the.link.token" in to_representative.get_content()
    [to_team] = box.to(team)
    assert to_team["Subject"].startswith("Ansøgning venter på sagsbehandling")
    assert f"/caseworker/applications/{application.application_id}" in to_team.get_content()
    assert application.citizen_ref not in to_team.get_content()
    [to_employer] = box.to(application.employer_email)
    assert to_employer["Subject"] == "Jeres ansøgning om løntilskud behandles af en sagsbehandler"
    assert len(box.messages) == 3


async def test_a_referred_change_and_its_rejection_are_mailed_naming_the_change_not_as_a_new_application(
    kafka: KafkaAccess, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    team = f"jobcenter-{uuid4().hex[:8]}@kommune.example"
    application = submitted(employer_email=f"hr-{uuid4().hex[:8]}@employer.example")
    change = ReferredChange(kind=ChangeKind.EXTENSION, new_end=date(2026, 8, 28))
    referred = about(ApplicationReferred, application, change=change)
    rejected = about(PlacementChangeRejected, application, change=change, remark="Ikke begrundet.")
    async with running_notify(settings_for(smtp_port=port, caseworker_mailbox=team)):
        await publish(kafka, topic_prefix, application, referred, rejected)
        await notifications(kafka, topic_prefix, expect=3)

    [to_team] = box.to(team)
    assert to_team["Subject"] == "Ændring venter på sagsbehandling: forlængelse til 28. august 2026, CVR 12345678"
    told_employer = [mail["Subject"] for mail in box.to(application.employer_email)]
    assert sorted(told_employer) == [
        "Jeres ændring (forlængelse til 28. august 2026) behandles af en sagsbehandler",
        "Ændring afvist: forlængelse til 28. august 2026, løntilskud som VVS-assistent",
    ]
    assert all("Ikke begrundet." not in mail.get_content() for mail in box.messages)  # reasons in the portal only


async def test_a_refused_address_fails_for_good_at_once_and_the_reason_names_no_one(
    kafka: KafkaAccess, topic_prefix: str, mailbox: tuple[Mailbox, int], settings_for: SettingsFactory
) -> None:
    box, port = mailbox
    application = submitted(employer_email=f"gone-{uuid4().hex[:8]}@employer.example")
    box.refused.add(application.employer_email)
    async with running_notify(settings_for(smtp_port=port)):
        await publish(kafka, topic_prefix, application, about(ApplicationApproved, application))
        told = await notifications(kafka, topic_prefix, expect=2)

    [failed] = [e for e in told if e.recipient_role == "employer"]
    assert isinstance(failed, NotificationFailed)
    assert (failed.attempts, failed.retryable, failed.reason) == (1, False, "SMTP 550 recipient refused")
    assert box.messages == []


class _Peers(Mailbox):
    """A mailbox that also notes the connection (the client's address and port) each mail came over."""

    def __init__(self) -> None:
        super().__init__()
        self.peers: list[object] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.peers.append(session.peer)
        return await super().handle_DATA(server, session, envelope)


async def test_mails_share_a_connection_and_one_the_server_closed_meanwhile_is_no_failed_attempt(
    settings_for: SettingsFactory,
) -> None:
    box, port = _Peers(), free_port()
    mailer = SmtpMailer(settings_for(smtp_port=port))
    server = Controller(box, hostname="127.0.0.1", port=port)
    server.start()
    try:
        for n in range(3):
            await mailer.send(_delivery(n))
        server.stop()  # closes the connection the mailer keeps
        server = Controller(box, hostname="127.0.0.1", port=port)
        server.start()
        await mailer.send(_delivery(3))
    finally:
        server.stop()

    assert [m["Jobbro-Delivery-Id"] for m in box.messages] == [f"test:{n}" for n in range(4)]
    assert len(set(box.peers[:3])) == 1 and box.peers[3] != box.peers[0]


def _delivery(n: int) -> Delivery:
    to = Recipient(Role.EMPLOYER, Channel.EMAIL, f"hr-{n}@employer.example", "da")
    return Delivery(n, f"test:{n}", to, "application-approved.employer.v1", "Godkendt", "Tekst\n", None, 0, None)
