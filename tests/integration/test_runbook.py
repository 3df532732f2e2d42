"""The runbook's commands (docs/operations.md), run as written on a real PostgreSQL and Kafka: giving a rejected
outbox row back to the relay, raising a topic's message size, a principal's new SCRAM password, resetting a
consumer group to a backup's time, and backing up and restoring a service's database; and that every command block
of the runbook is run by a test (`jobbro dlq`'s by tests/cli/test_dlq.py)."""

import asyncio
import os
import re
import secrets
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from jobbro.db import create_pool, migrate
from jobbro.infra import REPO, Infrastructure
from jobbro.kafka import create_broker, outbox_publisher
from jobbro.kafka_access import KafkaAccess
from jobbro.outbox import OutboxRelay
from jobbro.settings import ServiceSettings
from jobbro.testing import create_database, create_topics, drop_database, produce, read_topic, unique
from jobbro.uow import UnitOfWork
from tests.example.events import ExampleTopics
from tests.example.service import SQL
from tests.runbook import MARKED, RUNBOOK, block


def _server_env(dsn: str) -> dict[str, str]:
    """The libpq variables that name the server of `dsn`, as an operator's shell would set them."""
    parts = urlsplit(dsn)
    return {
        **os.environ,
        "PGHOST": parts.hostname or "",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "",
        "PGPASSWORD": parts.password or "",
    }


def _run(command: list[str], env: dict[str, str], cwd: Path, stdin: str | None = None) -> str:
    done = subprocess.run(command, input=stdin, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database, size=4)
    await migrate(pool, SQL)
    yield pool
    await pool.close()


async def test_a_rejected_outbox_row_given_back_with_the_runbooks_sql_is_published_with_its_own_id(
    pool: asyncpg.Pool, database: str, kafka: KafkaAccess, tmp_path: Path
) -> None:
    topics = ExampleTopics(commands=unique("unused"), changes=unique("changes"))
    _, changed = topics.bind()
    async with UnitOfWork(pool, "/test") as uow:
        event = uow.publish(changed(counter="c", value=1, version=1))
        await uow.commit()
    async with pool.acquire() as conn:  # as the relay sets a row aside: its topic did not exist (the cause)
        rejected = await conn.fetchval(
            """INSERT INTO outbox_rejected (id, event_id, topic, key, value, headers, created_at, error)
               SELECT id, event_id, topic, key, value, headers, created_at, 'UnknownTopicOrPartitionError'
               FROM outbox RETURNING id"""
        )
        await conn.execute("DELETE FROM outbox")
    await create_topics(kafka, topics.changes)  # the fix

    env = _server_env(database)
    listed = _run(["psql", "-v", "ON_ERROR_STOP=1", "-At", "-d", database], env, tmp_path, block("list-rejected"))
    assert listed.startswith(f"{rejected}|{event.id}|{topics.changes}|") and "UnknownTopicOrPartitionError" in listed
    _run(
        ["psql", "-v", f"id={rejected}", "-v", "ON_ERROR_STOP=1", "-d", database],
        env,
        tmp_path,
        block("requeue-rejected"),
    )

    assert await pool.fetchval("SELECT count(*) FROM outbox_rejected") == 0
    assert await pool.fetchval("SELECT event_id FROM outbox") == event.id
    broker = create_broker(ServiceSettings(service="test", **kafka.settings()))
    await broker.connect()
    try:
        assert await OutboxRelay(pool, outbox_publisher(broker), batch_size=10, poll_seconds=0.1).publish_batch() == 1
        [record] = await read_topic(kafka, topics.changes, expect=1)
    finally:
        await broker.stop()
    assert UUID(dict(record.headers)["ce_id"].decode()) == event.id


async def test_a_database_backed_up_and_restored_with_the_runbooks_commands_is_as_it_was(
    pool: asyncpg.Pool, database: str, infra: Infrastructure, tmp_path: Path
) -> None:
    topics = ExampleTopics(commands=unique("unused"), changes=unique("changes"))
    _, changed = topics.bind()
    async with UnitOfWork(pool, "/test") as uow:
        kept = uow.publish(changed(counter="c", value=1, version=1))
        await uow.commit()
    name = database.rsplit("/", 1)[1]
    env = _server_env(database)

    _run(["bash", "-euo", "pipefail", "-c", block("backup")], {**env, "DATABASES": name}, tmp_path)
    [dump] = tmp_path.glob(f"{name}-*.dump")
    async with UnitOfWork(pool, "/test") as uow:  # a change after the backup, which the restore takes back
        uow.publish(changed(counter="c", value=2, version=2))
        await uow.commit()
    await pool.execute("DELETE FROM schema_migrations")

    await pool.close()  # the service is stopped for its restore
    _run(["bash", "-euo", "pipefail", "-c", block("restore")], {**env, "db": name, "dump": str(dump)}, tmp_path)

    conn = await asyncpg.connect(database)
    try:
        assert [row["event_id"] for row in await conn.fetch("SELECT event_id FROM outbox")] == [kept.id]
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") > 0
    finally:
        await conn.close()

    scratch = await create_database(infra)  # the quarterly test of a restore, into a scratch database
    try:
        scratch_name = scratch.rsplit("/", 1)[1]
        counted = _run(
            ["bash", "-euo", "pipefail", "-c", block("restore-check")],
            {**env, "scratch": scratch_name, "dump": str(dump)},
            tmp_path,
        )
    finally:
        await drop_database(infra, scratch)
    assert "outbox|" in counted and "schema_migrations|" in counted


def test_every_command_block_of_the_runbook_is_marked_and_run_by_the_test_it_names() -> None:
    text = RUNBOOK.read_text()
    blocks = re.findall(r"^```\w*\n(.*?)^```$", text, re.S | re.M)
    marked = MARKED.findall(text)
    unmarked = set(blocks) - {found for _, _, found in marked}
    assert not unmarked, f"blocks without a runbook marker: {[found.splitlines()[0] for found in unmarked]}"
    for name, test, _ in marked:
        runner = (REPO / test).read_text()  # it reads the block by its name: block("name"), or a helper's run("name")
        assert "block(" in runner and f'("{name}"' in runner, f"{test} does not run the runbook block {name}"


@pytest.fixture
def kafka_tools(kafka: KafkaAccess, tmp_path: Path) -> dict[str, str]:
    """The environment the runbook's Kafka commands run in: `kafka-configs` and `kafka-consumer-groups` (the Kafka
    distribution's scripts, here the same classes from deploy/kafka's jars) and the client properties written by
    the runbook's own block."""
    libs = Path(os.environ.get("JOBBRO_KAFKA_LIBS", REPO / "deploy" / "kafka" / "target" / "kafka-libs"))
    assert any(libs.glob("kafka-clients-*.jar")), f"no Kafka jars in {libs}: run deploy/local/infra up"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for script, main in {
        "kafka-configs": "kafka.admin.ConfigCommand",
        "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    }.items():
        (bin_dir / script).write_text(
            f'#!/bin/sh\nexec java -Xmx256m -XX:TieredStopAtLevel=1 -cp "{libs}/*" {main} "$@"\n'
        )
        (bin_dir / script).chmod(0o755)
    assert kafka.password is not None and kafka.ca_file is not None
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "KAFKA_BOOTSTRAP": kafka.bootstrap,
        "KAFKA_ADMIN_PASSWORD": kafka.password.get_secret_value(),
        "KAFKA_CA_FILE": str(kafka.ca_file),
    }
    _run(["bash", "-euo", "pipefail", "-c", block("kafka-client-properties")], env, tmp_path)
    assert (tmp_path / "admin.properties").stat().st_mode & 0o077 == 0, "the password is readable by others"
    return env


async def test_a_topics_message_size_raised_with_the_runbooks_kafka_configs_is_the_topics_config(
    kafka: KafkaAccess, kafka_tools: dict[str, str], tmp_path: Path
) -> None:
    topic = unique("runbook-large")
    await create_topics(kafka, topic, partitions=1)

    described = _run(
        ["bash", "-euo", "pipefail", "-c", block("topic-config")],
        {**kafka_tools, "topic": topic, "bytes": "2097152"},
        tmp_path,
    )

    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    configs = {entry[0]: entry[1] for resource in response.resources for entry in resource[4]}
    assert configs["max.message.bytes"] == "2097152" and "max.message.bytes=2097152" in described


async def test_a_principals_new_scram_password_set_with_the_runbooks_command_logs_in(
    kafka: KafkaAccess, kafka_tools: dict[str, str], tmp_path: Path
) -> None:
    principal, password = unique("runbook-principal"), secrets.token_hex(16)

    _run(
        ["bash", "-euo", "pipefail", "-c", block("scram-password")],
        {**kafka_tools, "principal": principal, "new_password": password},
        tmp_path,
    )

    try:
        admin = AIOKafkaAdminClient(**kafka.as_principal(principal, password).client_kwargs())
        await admin.start()  # authenticates with the new password, or fails
        await admin.close()
        wrong = AIOKafkaAdminClient(**kafka.as_principal(principal, "not-" + password).client_kwargs())
        with pytest.raises(Exception):  # noqa: B017 - aiokafka names no one class for a refused login
            await wrong.start()
        await wrong.close()
    finally:
        _run(
            [
                "kafka-configs",
                "--bootstrap-server",
                kafka.bootstrap,
                "--command-config",
                "admin.properties",
                "--alter",
                "--entity-type",
                "users",
                "--entity-name",
                principal,
                "--delete-config",
                "SCRAM-SHA-512",
            ],
            kafka_tools,
            tmp_path,
        )


async def test_a_consumer_group_reset_with_the_runbooks_command_goes_back_to_the_backups_time(
    kafka: KafkaAccess, kafka_tools: dict[str, str], tmp_path: Path
) -> None:
    topic, group = unique("runbook-replay"), unique("runbook-service.purpose")
    await create_topics(kafka, topic, partitions=1)
    await produce(kafka, *((topic, b"k", b"before", []) for _ in range(3)))
    await asyncio.sleep(1.5)  # record times are in milliseconds: the backup falls clearly between
    backup_time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    await asyncio.sleep(1.5)
    await produce(kafka, *((topic, b"k", b"after", []) for _ in range(2)))
    partition = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(**kafka.client_kwargs(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([partition])
        await consumer.commit({partition: 5})  # the group had handled everything, the stopped service's position
    finally:
        await consumer.stop()

    _run(
        ["bash", "-euo", "pipefail", "-c", block("reset-offsets")],
        {**kafka_tools, "group": group, "backup_time": backup_time, "TZ": "UTC"},
        tmp_path,
    )

    admin = AIOKafkaAdminClient(**kafka.client_kwargs())
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group, partitions=[partition])
    finally:
        await admin.close()
    assert committed[partition].offset == 3, "the two records after the backup are delivered again"
