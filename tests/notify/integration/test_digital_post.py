"""Digital Post through the file-drop stand-in: one JSON file per letter, one letter however often the event comes."""

import json
from collections import Counter
from pathlib import Path

from contracts.common import Language
from contracts.subsidy import ApplicationApproved, PlacementEnded
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import publish
from tests.notify.integration.conftest import SettingsFactory, about, notifications, running_notify, submitted_v1


async def test_each_letter_is_one_file_and_the_same_event_twice_is_still_one_letter(
    kafka: KafkaAccess, topic_prefix: str, settings_for: SettingsFactory
) -> None:
    application = submitted_v1(employer_email=None, citizen_language=Language.EN)  # v1: the CPR number stays out
    approved = about(ApplicationApproved, application)
    later = about(PlacementEnded, application)
    settings = settings_for()
    async with running_notify(settings):
        await publish(kafka, topic_prefix, application, approved, approved, later)
        told = await notifications(kafka, topic_prefix, expect=3)

    assert Counter((e.recipient_role, e.channel) for e in told) == {
        ("employer", "digital_post"): 1,
        ("citizen", "digital_post"): 2,
    }
    files = sorted(Path(settings.digital_post_dir).iterdir())
    letters = {letter["letter_id"]: letter for letter in (json.loads(f.read_text()) for f in files)}
    assert len(files) == len(letters) == 3
    to_citizen = letters[f"application-approved:{application.application_id}:citizen:digital_post"]
    assert (to_citizen["recipient_kind"], to_citizen["recipient"]) == ("citizen_ref", application.citizen_ref)
    assert to_citizen["language"] == "en"
    assert to_citizen["title"] == "Your placement has been approved: job with wage subsidy at Hansen VVS ApS"
    to_employer = letters[f"application-approved:{application.application_id}:employer:digital_post"]
    assert (to_employer["recipient_kind"], to_employer["recipient"]) == ("cvr", application.employer_cvr)
    assert to_employer["language"] == "da"
    assert not [f.name for f in files if application.citizen_cpr in f.read_text()]
