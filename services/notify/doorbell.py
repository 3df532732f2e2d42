"""How a commit that made deliveries due wakes the delivery worker: one idle loop per ring, not all of them.

Waking every idle loop for each commit would send all of them to look for work that one of them takes. A ring that
finds no loop idle is kept (one at the most), so a delivery committed between a loop's look and its wait is not
left to the poll.
"""

import asyncio
import contextlib
from collections import deque


class Doorbell:
    """Rung from commit callbacks, waited on by idle worker loops, all on one event loop."""

    def __init__(self) -> None:
        self._idle: deque[asyncio.Future[None]] = deque()
        self._kept = False

    def ring(self) -> None:
        """Wake the longest idle loop, or, with none idle, let the next wait return at once."""
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._kept = True

    async def wait(self, timeout: float) -> None:
        """Return when rung, or after `timeout` seconds."""
        if self._kept:
            self._kept = False
            return
        waiter = asyncio.get_running_loop().create_future()
        self._idle.append(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await waiter
        finally:
            with contextlib.suppress(ValueError):
                self._idle.remove(waiter)
