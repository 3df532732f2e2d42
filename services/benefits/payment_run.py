"""The monthly citizen payment run: every citizen's benefit for a month, issued through the outbox in batches.

It streams: a server-side cursor reads the registry one batch at a time, and each batch is one transaction
(ledger rows and outbox rows together), so memory holds a few batches whatever the number of citizens. It
overlaps: while PostgreSQL writes and commits one batch, this process prepares the next, so the two use both
cores instead of taking turns. It resumes: the ledger's unique idempotency key (purpose, citizen, month) finds
what an interrupted run committed, whichever batches that was, so a re-run issues only what is missing and never
an instruction twice.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Self

import asyncpg

from jobbro.uow import UnitOfWork
from services.benefits import store
from services.benefits.domain import Instruction, PayableCitizen
from services.benefits.handlers import Context, issue_benefit_payments
from services.benefits.rules import Month

IN_FLIGHT = 3
"""Batch transactions open at once: the next is prepared while others insert and commit (with only two, this
process still waited for the database now and then; with four it was no faster)."""
CONNECTIONS = IN_FLIGHT + 1
"""What a run uses of its pool: the transactions in flight and the reader."""


@dataclass(frozen=True)
class Progress:
    """How far a run has come: citizens read, and instructions and øre this run issued (not earlier runs)."""

    month: Month
    citizens: int
    citizens_done: int = 0
    issued: int = 0
    issued_ore: int = 0

    def after(self, batch: list[PayableCitizen], issued: list[Instruction]) -> Self:
        """The progress once `batch` has committed, issuing `issued`."""
        return replace(
            self,
            citizens_done=self.citizens_done + len(batch),
            issued=self.issued + len(issued),
            issued_ore=self.issued_ore + sum(instruction.amount_ore for instruction in issued),
        )


async def run(
    pool: asyncpg.Pool,
    ctx: Context,
    month: Month,
    *,
    batch_size: int,
    source: str,
    on_batch: Callable[[Progress], None] = lambda _: None,
) -> Progress:
    """Issue every citizen's payment instructions for `month`, one transaction per batch of `batch_size` citizens
    and up to `IN_FLIGHT` of them at once; `on_batch` hears of each batch in order. A failed batch stops the run:
    the batches in flight beside it finish, each committing or failing on its own, and the run raises its error
    (they are not cancelled: a unit of work cancelled while it begins would keep its connection)."""

    progress: Progress

    async def pay(batch: list[PayableCitizen]) -> list[Instruction]:
        async with UnitOfWork(pool, source, store=partial(store.PgBenefits, keys=ctx.data_keys)) as uow:
            issued = await issue_benefit_payments(batch, month, uow, ctx)
            await uow.commit()
        return issued

    async def settle(batch: list[PayableCitizen], paying: asyncio.Task[list[Instruction]]) -> None:
        nonlocal progress
        progress = progress.after(batch, await paying)
        on_batch(progress)

    in_flight: deque[tuple[list[PayableCitizen], asyncio.Task[list[Instruction]]]] = deque()
    async with pool.acquire() as reader, reader.transaction(isolation="repeatable_read", readonly=True):
        progress = Progress(month, await store.count_payable(reader))
        try:
            async for batch in store.payable_citizens(reader, month, batch_size):
                in_flight.append((batch, asyncio.create_task(pay(batch))))
                if len(in_flight) == IN_FLIGHT:
                    await settle(*in_flight.popleft())
            while in_flight:
                await settle(*in_flight.popleft())
        finally:
            await asyncio.gather(*(paying for _, paying in in_flight), return_exceptions=True)
    return progress
