"""The monthly citizen payment run: every citizen's benefit for a month, issued through the outbox in batches.

It streams: a server-side cursor reads the registry one batch at a time, and each batch is one transaction
(ledger rows and outbox rows together), so memory holds one batch whatever the number of citizens. It resumes:
the ledger's unique idempotency key (purpose, citizen, month) finds what an interrupted run committed, so a
re-run issues only what is missing and never an instruction twice.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import asyncpg

from jobbro.uow import UnitOfWork
from services.benefits import store
from services.benefits.handlers import Context, issue_benefit_payments
from services.benefits.rules import Month


@dataclass(frozen=True)
class Progress:
    """How far a run has come: citizens read, and instructions and øre this run issued (not earlier runs)."""

    month: Month
    citizens: int
    citizens_done: int = 0
    issued: int = 0
    issued_ore: int = 0


async def run(
    pool: asyncpg.Pool,
    ctx: Context,
    month: Month,
    *,
    batch_size: int,
    source: str,
    on_batch: Callable[[Progress], None] = lambda _: None,
) -> Progress:
    """Issue every citizen's payment instructions for `month`, one transaction per batch of `batch_size` citizens."""
    async with pool.acquire() as reader, reader.transaction(isolation="repeatable_read", readonly=True):
        progress = Progress(month, await store.count_payable(reader))
        async for batch in store.payable_citizens(reader, month, batch_size):
            async with UnitOfWork(pool, source) as uow:
                issued = await issue_benefit_payments(batch, month, uow, ctx)
                await uow.commit()
            progress = replace(
                progress,
                citizens_done=progress.citizens_done + len(batch),
                issued=progress.issued + len(issued),
                issued_ore=progress.issued_ore + sum(instruction.amount_ore for instruction in issued),
            )
            on_batch(progress)
    return progress
