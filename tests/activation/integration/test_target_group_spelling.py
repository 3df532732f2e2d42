"""An assessment benefits wrote before the catalog's 1.1.0, with a target group in its old spelling, is recorded by
activation in the current spelling, and so counted with the assessments written since."""

import json
from datetime import date

from contracts.benefits import TargetGroup
from contracts.envelope import encode
from jobbro.testing import produce
from tests.activation.events import assessed, citizen, submitted
from tests.activation.integration.conftest import Activation


async def test_an_assessment_in_a_target_groups_old_spelling_is_recorded_in_the_current_one(
    activation: Activation,
) -> None:
    application = submitted(citizen(), date(2026, 3, 2), date(2026, 3, 27))
    assessment = assessed(
        application, assessed_on=date(2026, 2, 10), unemployed_weeks=30, target_group=TargetGroup.JOBAFKLARINGSYDELSE
    )
    _, record = encode(assessment, source="/jobbro/benefits")
    as_written_before = {**json.loads(record.value), "target_group": "jobafklaring"}

    await activation.publish(application)
    await produce(
        activation.settings.kafka,
        (
            activation.settings.topic_prefix + record.topic,
            record.key.encode(),
            json.dumps(as_written_before).encode(),
            [(name, value.encode()) for name, value in record.headers.items()],
        ),
    )
    await activation.wait_handled(2)

    recorded = await activation.fetchval(
        "SELECT target_group FROM assessments WHERE assessment_id = $1", assessment.assessment_id
    )
    assert recorded == "jobafklaringsydelse"
