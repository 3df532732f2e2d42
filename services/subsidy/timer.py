"""The saga's clock: a loop that refers cases whose deadline passed and completes placements whose planned end is
over, reading both from the database.

Nothing waits in memory, so a restart loses no deadline, and replicas may all run the loop: each case is
handled under its row lock and only while it is still due, its events written to the outbox in that transaction.
"""

from __future__ import annotations

import asyncio

import structlog

from jobbro.runtime import Runtime
from services.subsidy import handlers, store

log = structlog.get_logger(__name__)

BATCH = 100


async def fire_due(runtime: Runtime[handlers.Context]) -> int:
    """Refer every case due now and complete every placement past its planned end, each in its own transaction;
    return how many were due."""
    ctx = runtime.context
    now = ctx.clock()
    async with runtime.pool.acquire() as conn:
        due = [(handlers.on_deadline, found) for found in await store.due(conn, now, BATCH)]
        due += [(handlers.on_planned_end, found) for found in await store.past_planned_end(conn, now.date(), BATCH)]
    for handler, application_id in due:
        try:
            async with runtime.unit_of_work() as uow:
                await handler(ctx, uow, application_id)
                await uow.commit()
        except Exception:  # one broken case must not hold up the others
            log.exception("timer_failed", handler=handler.__name__, application_id=str(application_id))
    return len(due)


async def run(runtime: Runtime[handlers.Context]) -> None:
    """Look for due deadlines every `timer_poll_seconds` until cancelled; outlive database outages."""
    while True:
        try:
            await fire_due(runtime)
        except Exception as exc:
            log.warning("deadline_timer_failed", error=repr(exc))
        await asyncio.sleep(runtime.context.settings.timer_poll_seconds)
