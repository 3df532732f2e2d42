import asyncpg
import pytest

from jobbro.retry import is_transient, with_retries


def test_lost_connections_and_serialization_failures_are_transient() -> None:
    assert is_transient(asyncpg.SerializationError("x"))
    assert is_transient(ConnectionResetError())
    assert not is_transient(ValueError("bad data"))


async def test_retries_a_transient_failure_until_it_succeeds() -> None:
    calls = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise asyncpg.DeadlockDetectedError("deadlock")
        return "done"

    assert await with_retries(attempt, attempts=5, base_seconds=0.001, what="t") == "done"
    assert len(calls) == 3


async def test_gives_up_after_the_last_attempt_and_raises_the_failure() -> None:
    calls = []

    async def attempt() -> None:
        calls.append(1)
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError):
        await with_retries(attempt, attempts=3, base_seconds=0.001, what="t")
    assert len(calls) == 3


async def test_does_not_retry_a_permanent_failure() -> None:
    calls = []

    async def attempt() -> None:
        calls.append(1)
        raise ValueError("schema")

    with pytest.raises(ValueError):
        await with_retries(attempt, attempts=3, base_seconds=0.001, what="t")
    assert len(calls) == 1
