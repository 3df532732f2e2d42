"""The parts of each channel that need no server: Message-IDs, file names, signatures, CloudEvents bodies."""

import base64
import json
from datetime import UTC, datetime
from email import message_from_bytes, message_from_string, policy
from pathlib import Path

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from contracts.envelope import encode
from contracts.examples import example
from contracts.subsidy import ApplicationRejected, PlacementExtended
from services.notify.digital_post import FileDropDigitalPost, Letter
from services.notify.domain import Channel, Delivery, Recipient, Role
from services.notify.email import compose, message_id
from services.notify.settings import NotifySettings
from services.notify.webhooks import cloudevent, new_secret, secret_problem, signed_headers, without

KEY = "application-approved:3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90:employer:email"


def test_the_message_id_is_the_dedup_key_in_a_form_mail_headers_allow() -> None:
    mid = message_id(KEY, "notify.jobbro.example")
    assert mid == "<application-approved.3f0c2a4e-8d5b-4c1e-9a7f-2b6d8e1c4a90.employer.email@notify.jobbro.example>"
    parsed = message_from_string(f"Message-ID: {mid}\n\nbody", policy=policy.default)
    assert parsed["Message-ID"] == mid and not parsed["Message-ID"].defects


def test_a_mail_reads_back_with_its_headers_and_text_in_the_recipients_language() -> None:
    settings = NotifySettings(pg_dsn="postgresql://unused", kafka_bootstrap="unused:9092")
    to = Recipient(Role.EMPLOYER, Channel.EMAIL, "hr@employer.example", "da")
    delivery = Delivery(1, KEY, to, "application-approved.employer.v1", "Ansøgning godkendt", "Æble\n", None, 0, None)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    mail = message_from_bytes(compose(delivery, settings, at), policy=policy.default)

    assert (mail["From"], mail["To"], mail["Date"].datetime) == (settings.mail_from, to.address, at)
    assert (mail["Subject"], mail["Content-Language"], mail.get_content().splitlines()) == (
        "Ansøgning godkendt",
        "da",
        ["Æble"],
    )
    assert (mail["Message-ID"], mail["Jobbro-Delivery-Id"]) == (message_id(KEY, settings.message_id_domain), KEY)


async def test_a_letter_delivered_twice_is_one_file(tmp_path: Path) -> None:
    post = FileDropDigitalPost(tmp_path / "post")
    letter = Letter(KEY, "cvr", "12345678", "da", "Ansøgning godkendt", "Brødtekst\n")
    await post.deliver(letter)
    await post.deliver(letter)
    files = list((tmp_path / "post").iterdir())
    assert [f.name for f in files] == [KEY.replace(":", ".") + ".json"]
    assert json.loads(files[0].read_text())["title"] == "Ansøgning godkendt"


def test_a_signed_attempt_verifies_with_the_standard_webhooks_library_and_not_with_another_secret() -> None:
    secret, body = new_secret(), '{"id":"x","data":{"name":"Søren"}}'
    headers = signed_headers("event:1:2:webhook", secret, body, datetime.now(UTC))

    assert Webhook(secret).verify(body.encode(), headers) == json.loads(body)
    assert headers["webhook-id"] == "event:1:2:webhook"
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body.encode(), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("x", "y").encode(), headers)


def test_a_stale_signature_is_refused_by_the_library() -> None:
    secret, body = new_secret(), "{}"
    headers = signed_headers("d", secret, body, datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body.encode(), headers)


def test_a_secret_is_whsec_and_the_base64_of_24_to_64_bytes() -> None:
    def of(size: int) -> str:
        return "whsec_" + base64.b64encode(bytes(size)).decode()

    assert secret_problem(new_secret()) is None
    assert [secret_problem(of(size)) is None for size in (23, 24, 64, 65)] == [False, True, True, False]
    assert secret_problem("s3cret-s3cret-s3cret-s3cret") == "a secret starts with whsec_"
    assert secret_problem("whsec_not base64!") == "a secret is whsec_ and base64"


def test_the_webhook_body_is_the_event_in_cloudevents_json() -> None:
    event = example(PlacementExtended)
    meta, record = encode(event, source="/jobbro/subsidy")
    document = json.loads(cloudevent(meta, event, sensitive=False))
    assert document["specversion"] == "1.0"
    assert (document["id"], document["type"], document["subject"]) == (str(meta.id), meta.type, meta.subject)
    assert document["data"] == json.loads(record.value)


def test_the_webhook_body_leaves_out_the_fields_the_catalog_marks_sensitive_without_the_grant() -> None:
    event = example(ApplicationRejected)
    meta, record = encode(event, source="/jobbro/subsidy")
    full = json.loads(record.value)
    without = json.loads(cloudevent(meta, event, sensitive=False))["data"]
    granted = json.loads(cloudevent(meta, event, sensitive=True))["data"]
    assert full["failed_rules"]
    assert without == {name: value for name, value in full.items() if name != "failed_rules"}
    assert granted == full


@pytest.mark.parametrize(
    ("path", "left"),
    [
        ("a", {"b": [{"c": 1, "d": 2}]}),
        ("b[].c", {"a": 1, "b": [{"d": 2}]}),
        ("b[]", {"a": 1}),
        ("missing.c", {"a": 1, "b": [{"c": 1, "d": 2}]}),
    ],
)
def test_a_marked_field_is_removed_wherever_its_path_leads(path: str, left: dict[str, object]) -> None:
    data = {"a": 1, "b": [{"c": 1, "d": 2}]}
    without(data, path)
    assert data == left
