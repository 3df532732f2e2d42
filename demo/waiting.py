"""Waiting for what happens asynchronously: poll a condition until it holds, or fail naming what did not happen.

The poll interval only paces the checks; the condition (an API answer, an event on a topic, a file) is the
synchronisation, so a fast stack finishes fast and a stuck one fails with a sentence saying what is missing.
"""

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class DidNotHappen(RuntimeError):
    """Something the scenario waits for did not happen in time."""


async def eventually(
    what: str,
    probe: Callable[[], T | None | Awaitable[T | None]],
    *,
    timeout: float,
    describe: Callable[[], str] | None = None,
    interval: float = 0.25,
) -> T:
    """The first truthy result of `probe` (a function or coroutine function); after `timeout` seconds,
    `DidNotHappen` naming `what` (and `describe()`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = probe()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        if loop.time() >= deadline:
            detail = f"; {describe()}" if describe else ""
            raise DidNotHappen(f"{what} did not happen within {timeout:.0f}s{detail}")
        await asyncio.sleep(interval)
