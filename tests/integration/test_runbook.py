"""The runbook's commands (docs/operations.md), run as written on a real PostgreSQL and Kafka: giving a rejected
outbox row back to the relay, and backing up and restoring a service's database. (`jobbro dlq` is run by
tests/cli/test_dlq.py.)"""

import os
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg
import pytest

from jobbro.db import create_pool, migrate
from jobbro.infra import REPO
from jobbro.kafka import create_broker, outbox_publisher
from jobbro.kafka_access import KafkaAccess
from jobbro.outbox import OutboxRelay
from jobbro.settings import ServiceSettings
from jobbro.testing import create_topics, read_topic, unique
from jobbro.uow import UnitOfWork
from tests.example.events import ExampleTopics
from tests.example.service import SQL

RUNBOOK = REPO / "docs" / "operations.md"


def block(name: str) -> str:
    """The fenced block that follows the runbook's `<!-- runbook: name -->` marker, as an operator copies it."""
    found = re.search(rf"<!-- runbook: {name}\b.*?-->\n```\w*\n(.*?)```", RUNBOOK.read_text(), re.S)
    assert found, f"docs/operations.md has no runbook block {name!r}"
    return found.group(1)


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
    pool: asyncpg.Pool, database: str, tmp_path: Path
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
