"""`jobbro dlq` on a real broker: dead letters listed, shown masked, replayed in order as they were, parked; and
the runbook's `jobbro dlq` blocks (docs/operations.md) run as written."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from contracts.examples import example
from contracts.subsidy import ApplicationSubmitted
from jobbro import dead_letters
from jobbro.kafka import dead_letter_headers
from jobbro.kafka_access import KafkaAccess
from jobbro.testing import produce, provisioned_prefix, publish, read_topic
from jobbroctl.cli import app
from tests.runbook import block

TOPIC = "subsidy.applications.v1"
DLQ = TOPIC + ".dlq"


async def _dead_letter_three(kafka: KafkaAccess, prefix: str) -> list[str]:
    """Three events of one application (one key, one partition), each dead-lettered as a consumer would."""
    submitted = example(ApplicationSubmitted)
    metas = await publish(kafka, prefix, submitted, submitted, submitted)
    records = await read_topic(kafka, prefix + TOPIC, expect=3)
    failure = ValueError(f"no such citizen {submitted.citizen_cpr}")
    await produce(
        kafka,
        *(
            (
                prefix + DLQ,
                r.key,
                r.value,
                [(k, v.encode()) for k, v in dead_letter_headers(r, "benefits", failure).items()],
            )
            for r in records
        ),
    )
    return [str(meta.id) for meta in metas]


def test_dead_letters_are_listed_shown_masked_replayed_in_order_and_parked(kafka: KafkaAccess) -> None:
    prefix = asyncio.run(provisioned_prefix(kafka))
    ids = asyncio.run(_dead_letter_three(kafka, prefix))
    [partition] = {letter.partition for letter in asyncio.run(dead_letters.read(kafka, prefix + DLQ))}
    cli = CliRunner()

    listed = cli.invoke(app, ["dlq", "list", DLQ, "--prefix", prefix, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["offset"], r["state"], r["consumer_group"]) for r in rows] == [(n, "open", "benefits") for n in range(3)]
    assert all(r["error"] == "ValueError: no such citizen <cpr>" for r in rows)

    shown = cli.invoke(app, ["dlq", "show", DLQ, "--prefix", prefix, "--partition", str(partition), "--offset", "0"])
    assert shown.exit_code == 0, shown.output
    letter = json.loads(shown.output)
    assert letter["original_topic"] == prefix + TOPIC and letter["failure"]["consumer_group"] == "benefits"
    assert letter["headers"]["ce_id"] == ids[0] and not any(h.startswith("dlq_") for h in letter["headers"])
    assert letter["data"]["citizen_cpr"] == "<cpr>" and example(ApplicationSubmitted).citizen_cpr not in shown.output

    parking = ["dlq", "park", DLQ, "--prefix", prefix, "--partition", str(partition), "--through", "0"]
    assert cli.invoke(app, parking).exit_code != 0, "parking without a reason is refused"
    parked = cli.invoke(app, [*parking, "--reason", "a test record", "--actor", "ops-1"])
    assert parked.exit_code == 0, parked.output

    replaying = ["dlq", "replay", DLQ, "--prefix", prefix, "--partition", str(partition), "--through", "2"]
    replayed = cli.invoke(app, [*replaying, "--reason", "citizen imported", "--actor", "ops-2"])
    assert replayed.exit_code == 0, replayed.output
    assert "2 dead letter(s)" in replayed.output

    again = asyncio.run(read_topic(kafka, prefix + TOPIC, expect=5))
    resent = again[3:]
    assert [dict(r.headers)["ce_id"].decode() for r in resent] == ids[1:], "the open ones, in order, as they were"
    assert all(not name.startswith("dlq_") for r in resent for name, _ in r.headers)
    assert [r.value for r in resent] == [r.value for r in again[1:3]] and {r.key for r in resent} == {again[0].key}

    assert asyncio.run(dead_letters.read(kafka, prefix + DLQ)) == [], "nothing open any more"
    everything = cli.invoke(app, ["dlq", "list", DLQ, "--prefix", prefix, "--json", "--all"]).output.splitlines()
    assert [json.loads(line)["state"] for line in everything] == ["resolved"] * 3
    assert cli.invoke(app, [*replaying, "--reason", "twice"]).exit_code != 0, "nothing left to replay"
    [resolution] = asyncio.run(dead_letters.resolutions(kafka, prefix + DLQ))
    assert (resolution.through, resolution.action, resolution.actor) == (2, "replayed", "ops-2")
    assert resolution.reason == "citizen imported"


def test_dlq_refuses_a_topic_outside_the_catalog() -> None:
    result = CliRunner().invoke(app, ["dlq", "list", TOPIC])
    assert result.exit_code != 0 and "not a dead-letter topic" in result.output


def test_the_runbooks_dlq_commands_run_as_written_park_one_and_replay_the_rest(
    kafka: KafkaAccess, tmp_path: Path
) -> None:
    prefix = asyncio.run(provisioned_prefix(kafka))
    ids = asyncio.run(_dead_letter_three(kafka, prefix))
    [partition] = {letter.partition for letter in asyncio.run(dead_letters.read(kafka, prefix + DLQ))}
    cli = Path(sys.executable).parent / "jobbro"
    in_namespace = f'jobbro() {{ "{cli}" "$@" --prefix "$prefix"; }}\n'  # the stack's topics, here the test's
    env = {**os.environ, "prefix": prefix, "dlq": DLQ, "partition": str(partition)}

    def run(name: str, offset: int) -> str:
        command = ["bash", "-euo", "pipefail", "-c", in_namespace + block(name)]
        done = subprocess.run(command, env={**env, "offset": str(offset)}, cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("dlq-park", 0)
    shown = run("dlq", 2)

    assert example(ApplicationSubmitted).citizen_cpr not in shown and ids[2] in shown
    resent = asyncio.run(read_topic(kafka, prefix + TOPIC, expect=5))[3:]
    assert [dict(r.headers)["ce_id"].decode() for r in resent] == ids[1:], "the parked one is not replayed"
    [resolution] = asyncio.run(dead_letters.resolutions(kafka, prefix + DLQ))
    assert (resolution.through, resolution.action, resolution.reason) == (2, "replayed", "rates 2027 added")
