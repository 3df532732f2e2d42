"""Retention: each data class's period and legal basis from `retention.toml`, and the job that deletes what is older.

Every service's runtime runs the job (`Runtime.retain` adds a service's own classes to the kit's): every
`retention_interval_seconds` it deletes, per class, at most `retention_max_batches` batches of
`retention_batch_size` rows or files older than the class's period, each batch its own short transaction, so
pruning a large backlog never holds locks for long and a busy service catches up over a few runs. Topics take their
periods from the same file when they are provisioned (`contracts.catalog`).
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType

import asyncpg
import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Policy:
    """How long one class of data is kept, counted from `start`, and why it may be kept that long."""

    name: str
    days: int
    start: str
    what: str
    where: str
    why: str
    basis: str
    unconfirmed: str | None = None

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.days)


@cache
def policies() -> Mapping[str, Policy]:
    """The policies of `jobbro/retention.toml`, by data class."""
    data = tomllib.loads((files("jobbro") / "retention.toml").read_text(encoding="utf-8"))
    found = {name: Policy(name=name, start=fields.pop("from"), **fields) for name, fields in data["classes"].items()}
    if bad := [name for name, policy in found.items() if policy.days < 1]:
        raise ValueError(f"retention.toml: a period is at least a day: {bad}")
    return MappingProxyType(found)


@dataclass(frozen=True)
class TableSweep:
    """Rows of a data class: `sql` deletes at most `$2` rows older than the cut-off `$1` (a timestamptz)."""

    data_class: str
    sql: str


@dataclass(frozen=True)
class FileSweep:
    """Files of a data class in `directory` (matching `pattern`), older than the cut-off by their modification time."""

    data_class: str
    directory: Path
    pattern: str = "*"


Sweep = TableSweep | FileSweep


def older_rows(table: str, column: str, condition: str = "true") -> str:
    """A bounded delete of `table`'s rows whose `column` is before the cut-off (and `condition` holds)."""
    return (
        f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("
        f"SELECT ctid FROM {table} WHERE {column} < $1 AND ({condition}) LIMIT $2))"
    )


KIT_SWEEPS: tuple[Sweep, ...] = (
    TableSweep("inbox", older_rows("inbox", "handled_at")),
    TableSweep("outbox_rejected", older_rows("outbox_rejected", "rejected_at")),
    TableSweep("access_audit", older_rows("access_audit", "at")),
)
"""The kit's own tables, in every service's database."""


async def sweep(
    pool: asyncpg.Pool, sweeps: Sequence[Sweep], *, now: datetime, batch_size: int, max_batches: int
) -> dict[str, int]:
    """Delete, per sweep, what its class's period no longer covers at `now`: at most `max_batches` batches."""
    deleted: dict[str, int] = {}
    for found in sweeps:
        before = now - policies()[found.data_class].period
        if isinstance(found, TableSweep):
            count = await _delete_rows(pool, found.sql, before, batch_size, max_batches)
        else:
            count = await asyncio.to_thread(delete_files, found, before, batch_size * max_batches)
        deleted[found.data_class] = deleted.get(found.data_class, 0) + count
    return deleted


async def _delete_rows(pool: asyncpg.Pool, sql: str, before: datetime, batch_size: int, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        async with pool.acquire() as conn:
            done = int((await conn.execute(sql, before, batch_size)).split()[-1])
        total += done
        if done < batch_size:
            break
    return total


def delete_files(found: FileSweep, before: datetime, limit: int) -> int:
    """Delete at most `limit` of the sweep's files last modified before `before`; how many were deleted."""
    if not found.directory.is_dir():
        return 0
    cutoff, count = before.timestamp(), 0
    for path in found.directory.glob(found.pattern):
        if count >= limit:
            break
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            count += 1
    return count


class RetentionJob:
    """Sweeps every `interval` seconds until stopped; a failed run is logged and tried again at the next."""

    def __init__(
        self, pool: asyncpg.Pool, sweeps: Sequence[Sweep], *, interval: float, batch_size: int, max_batches: int
    ) -> None:
        self._pool, self._sweeps = pool, tuple(sweeps)
        self._interval, self._batch_size, self._max_batches = interval, batch_size, max_batches
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                deleted = await sweep(
                    self._pool,
                    self._sweeps,
                    now=datetime.now(UTC),
                    batch_size=self._batch_size,
                    max_batches=self._max_batches,
                )
                if any(deleted.values()):
                    log.info("retention_swept", deleted=deleted)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("retention_failed", error=type(exc).__name__)
            try:
                await asyncio.wait_for(self._stopped.wait(), self._interval)
            except TimeoutError:
                pass
