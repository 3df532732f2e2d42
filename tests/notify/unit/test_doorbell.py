"""A ring wakes one idle loop of the delivery worker; a ring while none is idle is kept for the next wait, once."""

import asyncio

from services.notify.doorbell import Doorbell

NEVER = 3600.0
"""A poll interval no test waits out."""


async def _idle(bell: Doorbell, loops: int) -> list[asyncio.Task[None]]:
    waiting = [asyncio.create_task(bell.wait(NEVER)) for _ in range(loops)]
    await asyncio.sleep(0)  # each task runs up to its wait
    return waiting


async def test_a_ring_wakes_one_of_the_idle_loops() -> None:
    bell = Doorbell()
    first, second = await _idle(bell, 2)

    bell.ring()
    await first

    assert not second.done()
    bell.ring()
    await second


async def test_a_ring_while_no_loop_idles_is_kept_for_the_next_wait_but_only_one() -> None:
    bell = Doorbell()
    bell.ring()
    bell.ring()

    await bell.wait(NEVER)
    [waiting] = await _idle(bell, 1)

    assert not waiting.done()
    bell.ring()
    await waiting
