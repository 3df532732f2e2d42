import asyncio
import json

from typer.testing import CliRunner

from contracts.examples import example
from contracts.subsidy import ApplicationSubmitted
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import publish
from jobbroctl.cli import app


def test_tail_prints_each_cloudevent_with_cpr_numbers_masked(kafka: KafkaAccess, topic_prefix: str) -> None:
    submitted = example(ApplicationSubmitted)
    [meta] = asyncio.run(publish(kafka, topic_prefix, submitted))  # the CLI runs its own event loops

    args = ["tail", "subsidy.applications.v1", "--prefix", topic_prefix, "--from-beginning", "--limit", "1"]
    masked = CliRunner().invoke(app, args)
    shown = CliRunner().invoke(app, [*args, "--personal-data"])

    assert masked.exit_code == 0, masked.output
    line = json.loads(masked.output.strip().splitlines()[-1])
    assert line["type"] == ApplicationSubmitted.type and line["id"] == str(meta.id)
    assert line["data"]["citizen_cpr"] == "<cpr>" and submitted.citizen_cpr not in masked.output
    assert json.loads(shown.output.strip().splitlines()[-1])["data"]["citizen_cpr"] == submitted.citizen_cpr


def test_tail_refuses_a_topic_outside_the_catalog() -> None:
    result = CliRunner().invoke(app, ["tail", "no.such.topic"])
    assert result.exit_code != 0 and "not a catalog topic" in result.output
