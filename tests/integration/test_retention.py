"""The retention job on real PostgreSQL: rows and files older than their class's period go, younger ones stay, and a
run deletes no more than its batches allow."""

import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest

from jobbro import db
from jobbro.retention import KIT_SWEEPS, FileSweep, policies, sweep
from services.notify import store as notify_store

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
NOTIFY_SQL = Path(notify_store.__file__).parent / "sql"


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database, 2)
    await db.migrate(pool, NOTIFY_SQL)
    yield pool
    await pool.close()


def _aged(data_class: str, margin: timedelta) -> datetime:
    """A moment `margin` past the class's period (negative: still inside it)."""
    return NOW - policies()[data_class].period - margin


async def _inbox(pool: asyncpg.Pool, at: datetime) -> None:
    await pool.execute("INSERT INTO inbox (consumer, event_id, handled_at) VALUES ('c', $1, $2)", uuid4(), at)


async def _rejected(pool: asyncpg.Pool, at: datetime) -> None:
    await pool.execute(
        """INSERT INTO outbox_rejected (id, event_id, topic, key, value, headers, created_at, error, rejected_at)
           VALUES ((SELECT count(*) FROM outbox_rejected) + 1, $1, 't', 'k', '\\x00', '{}', $2, 'too large', $2)""",
        uuid4(),
        at,
    )


async def _access(pool: asyncpg.Pool, at: datetime) -> None:
    await pool.execute(
        """INSERT INTO access_audit (access_id, at, actor, roles, purpose, action, object_kind, citizen_refs, outcome,
                                     route)
           VALUES ($1, $2, 'a', '{}', 'p', 'read', 'o', '{}', 'granted', 'GET /')""",
        uuid4(),
        at,
    )


async def _delivery(pool: asyncpg.Pool, created_at: datetime, status: str = "sent") -> None:
    await pool.execute(
        """INSERT INTO delivery (dedup_key, channel, recipient_role, address, template, cause, status, created_at)
           VALUES ($1, 'email', 'employer', 'a@example.dk', 't', '{}', $2, $3)""",
        str(uuid4()),
        status,
        created_at,
    )


_ROWS = {
    "inbox": (_inbox, "inbox", "handled_at"),
    "outbox_rejected": (_rejected, "outbox_rejected", "rejected_at"),
    "access_audit": (_access, "access_audit", "at"),
    "deliveries": (_delivery, "delivery", "created_at"),
}
"""Each data class with rows: how a test inserts one at a moment, its table and the column its period counts from."""


async def test_rows_older_than_their_period_go_and_younger_ones_stay(pool: asyncpg.Pool) -> None:
    second = timedelta(seconds=1)
    for data_class, (insert, _table, _column) in _ROWS.items():
        await insert(pool, _aged(data_class, second))  # just past the period
        await insert(pool, _aged(data_class, -second))  # just inside it
    await _delivery(pool, _aged("deliveries", timedelta(days=30)), "pending")  # not yet sent: kept at any age
    await _delivery(pool, _aged("deliveries", timedelta(days=31)), "dead")  # a paused subscription's probe: kept

    deleted = await sweep(pool, [*KIT_SWEEPS, *notify_store.RETAINED], now=NOW, batch_size=10, max_batches=10)

    assert deleted == dict.fromkeys(_ROWS, 1)
    for data_class, (_insert, table, column) in _ROWS.items():
        kept = await pool.fetch(f"SELECT {column} AS at FROM {table} ORDER BY {column}")
        assert [row["at"] for row in kept if row["at"] >= NOW - policies()[data_class].period] == [
            _aged(data_class, -second)
        ]
    assert [row["status"] for row in await pool.fetch("SELECT status FROM delivery ORDER BY created_at")] == [
        "dead", "pending", "sent",
    ]  # fmt: skip


async def test_a_run_deletes_at_most_its_batches_and_the_next_run_goes_on(pool: asyncpg.Pool) -> None:
    for _ in range(5):
        await _inbox(pool, _aged("inbox", timedelta(days=1)))

    first = await sweep(pool, KIT_SWEEPS, now=NOW, batch_size=2, max_batches=2)
    second = await sweep(pool, KIT_SWEEPS, now=NOW, batch_size=2, max_batches=2)

    assert (first["inbox"], second["inbox"]) == (4, 1)
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 0


async def test_letters_older_than_their_period_go_and_younger_ones_stay(pool: asyncpg.Pool, tmp_path: Path) -> None:
    old, young, other = tmp_path / "old.json", tmp_path / "young.json", tmp_path / "old.txt"
    for letter in (old, young, other):
        letter.write_text(json.dumps({"title": "Din ydelse"}))
    for path, at in ((old, _aged("letters", timedelta(hours=1))), (other, NOW - timedelta(days=9999)), (young, NOW)):
        os.utime(path, (at.timestamp(), at.timestamp()))

    deleted = await sweep(pool, [FileSweep("letters", tmp_path, "*.json")], now=NOW, batch_size=10, max_batches=1)

    assert deleted == {"letters": 1}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["old.txt", "young.json"]
