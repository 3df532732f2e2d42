"""The inbox: which events a consumer has already handled, recorded in the handler's own transaction."""

from collections.abc import Iterable
from uuid import UUID

import asyncpg


async def claim_all(conn: asyncpg.Connection, consumer: str, event_ids: Iterable[UUID]) -> set[UUID]:
    """Record that `consumer` handles each of `event_ids` (one round trip); the ones it had not handled before."""
    rows = await conn.fetch(
        """INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])
           ON CONFLICT DO NOTHING RETURNING event_id""",
        consumer,
        list(event_ids),
    )
    return {row["event_id"] for row in rows}
