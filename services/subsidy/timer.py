"""The saga's clock: a loop that refers cases whose deadline passed and completes placements whose planned end is
over, reading both from the database.

Nothing waits in memory, so a restart loses no deadline, and replicas may all run the loop: each case is claimed
with `FOR UPDATE SKIP LOCKED` in its own transaction and handled only while it is still due, its events written to
the outbox in that transaction, so replicas share the due cases instead of queueing on one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

import asyncpg
import structlog

from jobbro import tracing
from jobbro.runtime import Runtime
from jobbro.uow import UnitOfWork
from services.subsidy import handlers, store

log = structlog.get_logger(__name__)

BATCH = 100
"""Cases one round handles at most before sleeping; the rest wait for the next round."""

_Claim = Callable[[asyncpg.Connection, datetime, list[UUID]], Awaitable[UUID | None]]
_Fire = Callable[[handlers.Context, UnitOfWork, UUID], Awaitable[None]]


async def fire_due(runtime: Runtime[handlers.Context]) -> int:
    """Refer every case due now and complete every placement past its planned end, each in its own transaction;
    return how many this process handled."""
    fired = 0
    for claim, fire in (
        (store.claim_due, handlers.on_deadline),
        (lambda conn, now, skip: store.claim_past_planned_end(conn, now.date(), skip), handlers.on_planned_end),
    ):
        failed: list[UUID] = []  # one broken case must not hold up the others, nor be tried again this round
        while fired < BATCH:
            found = await _fire_one(runtime, claim, fire, failed)
            if found is None:
                break
            fired += 1
    return fired


async def _fire_one(runtime: Runtime[handlers.Context], claim: _Claim, fire: _Fire, failed: list[UUID]) -> UUID | None:
    """Claim one due case no other transaction holds and handle it; the case, or None when none is left."""
    ctx = runtime.context
    async with runtime.unit_of_work() as uow:
        application_id = await claim(uow.conn, ctx.clock(), failed)
        if application_id is None:
            return None
        try:
            with tracing.case(fire.__name__, await store.case_trace(uow.conn, application_id)):
                await fire(ctx, uow, application_id)
            await uow.commit()
        except Exception:  # rolled back; the others go on
            log.exception("timer_failed", handler=fire.__name__, application_id=str(application_id))
            failed.append(application_id)
    return application_id


async def run(runtime: Runtime[handlers.Context]) -> None:
    """Look for due deadlines every `timer_poll_seconds` until cancelled; outlive database outages."""
    while True:
        try:
            await fire_due(runtime)
        except Exception as exc:
            log.warning("deadline_timer_failed", error=repr(exc))
        await asyncio.sleep(runtime.context.settings.timer_poll_seconds)
