"""Which failures are worth another try, and trying again with exponential backoff."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import structlog
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, RequestTimedOutError

log = structlog.get_logger(__name__)
T = TypeVar("T")

TRANSIENT: tuple[type[BaseException], ...] = (
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    KafkaConnectionError,
    KafkaTimeoutError,
    RequestTimedOutError,
    ConnectionError,
    TimeoutError,
    OSError,
)


def is_transient(exc: BaseException) -> bool:
    """A lost connection, a serialization failure or a deadlock: the same work may succeed if repeated."""
    return isinstance(exc, TRANSIENT)


async def with_retries(attempt: Callable[[], Awaitable[T]], *, attempts: int, base_seconds: float, what: str) -> T:
    """Run `attempt`, repeating it after transient failures with jittered exponential backoff.

    Permanent failures and the last transient one propagate to the caller.
    """
    n = 1
    while True:
        try:
            return await attempt()
        except TRANSIENT as exc:
            if n >= attempts:
                raise
            delay = base_seconds * 2 ** (n - 1) * (0.5 + random.random())
            log.warning("transient_failure", what=what, attempt=n, retry_in=round(delay, 3), error=repr(exc))
            await asyncio.sleep(delay)
            n += 1


async def until_reachable(attempt: Callable[[], Awaitable[T]], *, what: str, give_up_after: float) -> T:
    """Run `attempt` until it gets past transient failures, waiting up to 5 s between tries: a service started
    before its database or broker waits for them instead of exiting. After `give_up_after` seconds the last
    failure propagates (a supervisor's turn)."""
    loop = asyncio.get_running_loop()
    deadline, delay = loop.time() + give_up_after, 0.25
    while True:
        try:
            return await attempt()
        except TRANSIENT as exc:
            if loop.time() + delay > deadline:
                raise
            log.warning("waiting_for_dependency", what=what, retry_in=delay, error=repr(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
