"""An erased citizen in notify: their letters leave the Digital Post drop, their deliveries' texts are forgotten, and
nothing is written to them again, while the employer is still told about the application."""

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg

from contracts.benefits import CitizenErased
from contracts.subsidy import ApplicationApproved, PlacementEnded
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import publish
from tests.notify.integration.conftest import SettingsFactory, about, notifications, running_notify, submitted


async def test_an_erased_citizen_has_no_letter_left_and_gets_none_again(
    kafka: KafkaAccess, topic_prefix: str, settings_for: SettingsFactory, database: str
) -> None:
    application = submitted(employer_email=None)
    other = submitted(employer_email=None)
    settings = settings_for()
    async with running_notify(settings):
        await publish(kafka, topic_prefix, application, other)
        await publish(kafka, topic_prefix, about(ApplicationApproved, application), about(ApplicationApproved, other))
        await notifications(kafka, topic_prefix, expect=4)
        assert _letters_to(settings.digital_post_dir, application.citizen_ref)

        erased = CitizenErased(erasure_id=uuid4(), citizen_ref=application.citizen_ref, erased_at=datetime.now(UTC))
        [erasure] = await publish(kafka, topic_prefix, erased, source="/jobbro/benefits")
        await _handled(database, erasure.id)
        [ended] = await publish(kafka, topic_prefix, about(PlacementEnded, application))
        await _handled(database, ended.id)

    assert _letters_to(settings.digital_post_dir, application.citizen_ref) == []
    assert len(_letters_to(settings.digital_post_dir, other.citizen_ref)) == 1
    assert Counter(json.loads(p.read_text())["recipient_kind"] for p in Path(settings.digital_post_dir).iterdir()) == {
        "cvr": 2,
        "citizen_ref": 1,
    }
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch(
            "SELECT template, status, subject, body FROM delivery WHERE address = $1", application.citizen_ref
        )
        erasures = await conn.fetchval("SELECT count(*) FROM citizen_erasures WHERE erasure_id = $1", erased.erasure_id)
    finally:
        await conn.close()
    assert [(row["template"], row["subject"], row["body"]) for row in rows] == [
        ("application-approved.citizen.v1", None, None)
    ]
    assert erasures == 1


def _letters_to(directory: Path, citizen_ref: str) -> list[Path]:
    return [p for p in sorted(directory.glob("*.json")) if json.loads(p.read_text())["recipient"] == citizen_ref]


async def _handled(database: str, event_id: UUID) -> None:
    """Wait until notify's inbox holds the event: its transaction committed."""
    conn = await asyncpg.connect(database)
    try:
        for _ in range(600):
            if await conn.fetchval("SELECT true FROM inbox WHERE event_id = $1", event_id):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"notify did not handle {event_id}")
    finally:
        await conn.close()
