"""All SQL of the notify service: audiences, webhook subscriptions and deliveries. What the handlers read and write is
behind the `Notices` port (PostgreSQL: `PgNotices`, on the unit of work's connection; tests: an in-memory fake held to
the same contract suite); the delivery worker's claims and marks are functions on its own connection."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from contracts.envelope import Metadata
from jobbro import shredding, tracing
from jobbro.retention import TableSweep, older_rows
from services.notify.domain import (
    Audience,
    Channel,
    Delivery,
    Endpoint,
    LoggedDelivery,
    Recipient,
    Role,
    Subscription,
    SubscriptionStatus,
)

RETAINED = (TableSweep("deliveries", older_rows("delivery", "created_at", "status NOT IN ('pending', 'dead')")),)
"""Notify's data classes the retention job prunes (its letters are files: `app.create_runtime` names them); a dead
letter stays while its paused subscription is probed with it (reactivated, it is pending; cancelled, failed)."""


class Notices(Protocol):
    """What notify's handlers read and write (tests/notify/notices_contract.py holds every implementation to it)."""

    async def save_audience(self, audience: Audience) -> None: ...
    async def audience(self, application_id: UUID) -> Audience | None: ...
    async def add_delivery(
        self,
        *,
        dedup_key: str,
        recipient: Recipient,
        template: str,
        subject: str | None,
        body: str,
        application_id: UUID | None,
        cause: Metadata,
        subscription_id: UUID | None = None,
    ) -> bool: ...
    async def erase_citizen(self, erasure: shredding.Erasure) -> int: ...
    async def erased(self, citizen_ref: str) -> bool: ...
    async def subscribers(self, event_type: str) -> list[tuple[UUID, bool]]: ...
    async def add_subscription(self, subscription: Subscription, secret: str) -> Subscription: ...
    async def subscription(self, subscription_id: UUID) -> Subscription | None: ...
    async def subscriptions(self, owner: str | None, limit: int, after: UUID | None = None) -> list[Subscription]: ...
    async def set_subscription_status(
        self, subscription_id: UUID, status: SubscriptionStatus, url: str | None = None
    ) -> Subscription | None: ...
    async def resume_dead_deliveries(self, subscription_id: UUID) -> int: ...
    async def drop_undelivered(self, subscription_id: UUID) -> int: ...
    async def delivery_log(self, subscription_id: UUID, before: int | None, limit: int) -> list[LoggedDelivery]: ...


class PgNotices:
    """Audiences, deliveries and subscriptions in PostgreSQL, inside the unit of work's transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def save_audience(self, audience: Audience) -> None:
        """Insert the audience; one naming the citizen completes one that names none (a position), else nothing changes.

        So a redelivered submission changes nothing, and the first submission naming the citizen is the one kept; an
        e-mail address known from the position is kept when the submission naming the citizen gives none.
        """
        await self._conn.execute(
            """INSERT INTO audience (application_id, scheme, position_title, start_date, end_date, citizen_ref,
                                     citizen_language, employer_cvr, employer_name, employer_email, employer_language)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (application_id) DO UPDATE SET
                   scheme = EXCLUDED.scheme, position_title = EXCLUDED.position_title,
                   start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date,
                   citizen_ref = EXCLUDED.citizen_ref, citizen_language = EXCLUDED.citizen_language,
                   employer_cvr = EXCLUDED.employer_cvr, employer_name = EXCLUDED.employer_name,
                   employer_email = coalesce(EXCLUDED.employer_email, audience.employer_email),
                   employer_language = EXCLUDED.employer_language
               WHERE audience.citizen_ref IS NULL AND EXCLUDED.citizen_ref IS NOT NULL""",
            audience.application_id,
            audience.scheme,
            audience.position_title,
            audience.start,
            audience.end,
            audience.citizen_ref,
            audience.citizen_language,
            audience.employer_cvr,
            audience.employer_name,
            audience.employer_email,
            audience.employer_language,
        )

    async def audience(self, application_id: UUID) -> Audience | None:
        row = await self._conn.fetchrow("SELECT * FROM audience WHERE application_id = $1", application_id)
        if row is None:
            return None
        values = dict(row)
        return Audience(start=values.pop("start_date"), end=values.pop("end_date"), **values)

    async def add_delivery(
        self,
        *,
        dedup_key: str,
        recipient: Recipient,
        template: str,
        subject: str | None,
        body: str,
        application_id: UUID | None,
        cause: Metadata,
        subscription_id: UUID | None = None,
    ) -> bool:
        """Record a delivery to make; False when its dedup key is already recorded (nothing changes then)."""
        inserted = await self._conn.fetchval(
            """INSERT INTO delivery (dedup_key, channel, recipient_role, address, subscription_id, language, template,
                                     subject, body, application_id, cause)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
               ON CONFLICT (dedup_key) DO NOTHING
               RETURNING true""",
            dedup_key,
            recipient.channel.value,
            recipient.role.value,
            recipient.address,
            subscription_id,
            recipient.language,
            template,
            subject,
            body,
            application_id,
            _cause_json(replace(cause, traceparent=tracing.current_traceparent(cause.traceparent))),  # its span's
        )
        return bool(inserted)

    async def erase_citizen(self, erasure: shredding.Erasure) -> int:
        """Destroy the citizen's data key and forget the texts of the deliveries to them; how many were forgotten."""
        await shredding.erase(self._conn, erasure)
        return await self._forget_citizen(erasure.citizen_ref)

    async def _forget_citizen(self, citizen_ref: str) -> int:
        """Forget the texts of every delivery to an erased citizen; one not yet made will not be (how many rows)."""
        result = await self._conn.execute(
            """UPDATE delivery SET subject = NULL, body = NULL,
                                   status = CASE WHEN status = 'sent' THEN 'sent' ELSE 'failed' END,
                                   last_error = CASE WHEN status = 'sent' THEN NULL ELSE 'citizen erased' END
               WHERE recipient_role = 'citizen' AND address = $1""",
            citizen_ref,
        )
        return int(result.split()[-1])

    async def erased(self, citizen_ref: str) -> bool:
        """Whether the citizen was erased: nothing is written to them any more."""
        return bool(await self._conn.fetchval("SELECT true FROM citizen_erasures WHERE citizen_ref = $1", citizen_ref))

    async def subscribers(self, event_type: str) -> list[tuple[UUID, bool]]:
        """Subscriptions that get this event type (active ones, and failing ones: their deliveries wait), each with
        whether it receives sensitive fields."""
        rows = await self._conn.fetch(
            """SELECT id, sensitive_fields FROM subscription
               WHERE $1 = ANY(event_types) AND status <> 'cancelled' ORDER BY id""",
            event_type,
        )
        return [(row["id"], row["sensitive_fields"]) for row in rows]

    async def add_subscription(self, subscription: Subscription, secret: str) -> Subscription:
        row = await self._conn.fetchrow(
            f"""INSERT INTO subscription (id, url, event_types, secret, owner, sensitive_fields)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_SUBSCRIPTION}""",
            subscription.id,
            subscription.url,
            list(subscription.event_types),
            secret,
            subscription.owner,
            subscription.sensitive_fields,
        )
        return _subscription(row)

    async def subscription(self, subscription_id: UUID) -> Subscription | None:
        row = await self._conn.fetchrow(f"SELECT {_SUBSCRIPTION} FROM subscription WHERE id = $1", subscription_id)
        return _subscription(row) if row else None

    async def subscriptions(self, owner: str | None, limit: int, after: UUID | None = None) -> list[Subscription]:
        """`owner`'s subscriptions (everyone's for None), by id, from just after the id `after`."""
        rows = await self._conn.fetch(
            f"""SELECT {_SUBSCRIPTION} FROM subscription
                WHERE ($1::text IS NULL OR owner = $1) AND ($3::uuid IS NULL OR id > $3) ORDER BY id LIMIT $2""",
            owner,
            limit,
            after,
        )
        return [_subscription(row) for row in rows]

    async def set_subscription_status(
        self, subscription_id: UUID, status: SubscriptionStatus, url: str | None = None
    ) -> Subscription | None:
        """Change a subscription's status (and URL, if given); None if there is no such subscription."""
        row = await self._conn.fetchrow(
            f"""UPDATE subscription SET status = $2, url = coalesce($3, url), changed_at = now() WHERE id = $1
                RETURNING {_SUBSCRIPTION}""",
            subscription_id,
            status.value,
            url,
        )
        return _subscription(row) if row else None

    async def resume_dead_deliveries(self, subscription_id: UUID) -> int:
        """Make a subscription's dead-lettered deliveries due again, with a fresh count of attempts."""
        result = await self._conn.execute(
            """UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL,
                                   failing_since = NULL
               WHERE subscription_id = $1 AND status = 'dead'""",
            subscription_id,
        )
        return int(result.split()[-1])

    async def drop_undelivered(self, subscription_id: UUID) -> int:
        """Close a cancelled subscription's deliveries not yet made, so no claim has to step over them again."""
        result = await self._conn.execute(
            """UPDATE delivery SET status = 'failed', last_error = 'subscription cancelled', body = NULL
               WHERE subscription_id = $1 AND status IN ('pending', 'dead')""",
            subscription_id,
        )
        return int(result.split()[-1])

    async def delivery_log(self, subscription_id: UUID, before: int | None, limit: int) -> list[LoggedDelivery]:
        """A subscription's deliveries older than the one `before` names (from the newest when None), newest first."""
        rows = await self._conn.fetch(
            """SELECT id, dedup_key, (cause->>'id')::uuid AS event_id, template, status, attempts, last_error,
                      created_at, last_attempt_at, sent_at,
                      CASE WHEN status IN ('pending', 'dead') THEN next_attempt_at END AS next_attempt_at
               FROM delivery WHERE subscription_id = $1 AND ($2::bigint IS NULL OR id < $2)
               ORDER BY id DESC LIMIT $3""",
            subscription_id,
            before,
            limit,
        )
        return [
            LoggedDelivery(
                id=row["id"],
                delivery_id=row["dedup_key"],
                event_id=row["event_id"],
                event_type=row["template"],
                status=row["status"],
                attempts=row["attempts"],
                last_error=row["last_error"],
                created_at=row["created_at"],
                last_attempt_at=row["last_attempt_at"],
                next_attempt_at=row["next_attempt_at"],
                sent_at=row["sent_at"],
            )
            for row in rows
        ]


@dataclass(frozen=True)
class Claim:
    """A delivery claimed for an attempt, with the event that caused it."""

    delivery: Delivery
    cause: Metadata
    more_due: bool
    """Another delivery was due as well: the claimer may look again at once instead of waiting to be woken."""


async def claim_due(conn: asyncpg.Connection, lease_seconds: float) -> Claim | None:
    """Take the oldest due delivery by moving its due time one lease ahead; None when nothing is due.

    A webhook delivery is due only while its subscription is active and no older delivery to the same subscription
    is still pending or dead-lettered: each subscription receives its events in order. A paused (failing)
    subscription's oldest dead-lettered delivery is due as a probe when its next attempt's time has come.
    """
    row = await conn.fetchrow(
        """WITH pending AS (
               SELECT d.id FROM delivery d
               LEFT JOIN subscription s ON s.id = d.subscription_id
               WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                 AND (d.subscription_id IS NULL OR (s.status = 'active' AND NOT EXISTS (
                            SELECT 1 FROM delivery e
                            WHERE e.subscription_id = d.subscription_id AND e.id < d.id
                              AND e.status IN ('pending', 'dead'))))
               ORDER BY d.id
               LIMIT 2
               FOR UPDATE OF d SKIP LOCKED),
           probes AS (
               SELECT d.id FROM delivery d
               JOIN subscription s ON s.id = d.subscription_id
               WHERE d.status = 'dead' AND d.next_attempt_at <= now() AND s.status = 'failing'
                 AND NOT EXISTS (
                     SELECT 1 FROM delivery e
                     WHERE e.subscription_id = d.subscription_id AND e.id < d.id AND e.status IN ('pending', 'dead'))
               ORDER BY d.id
               LIMIT 2
               FOR UPDATE OF d SKIP LOCKED),
           due AS (SELECT id FROM pending UNION ALL SELECT id FROM probes),
           claimed AS (
               UPDATE delivery SET next_attempt_at = now() + make_interval(secs => $1)
               WHERE id = (SELECT min(id) FROM due)
               RETURNING *)
           SELECT claimed.*, s.url, s.secret, (SELECT count(*) FROM due) > 1 AS more_due
           FROM claimed LEFT JOIN subscription s ON s.id = claimed.subscription_id""",
        lease_seconds,
    )
    if row is None:
        return None
    endpoint = Endpoint(row["subscription_id"], row["url"], row["secret"]) if row["subscription_id"] else None
    recipient = Recipient(Role(row["recipient_role"]), Channel(row["channel"]), row["address"], row["language"])
    delivery = Delivery(
        id=row["id"],
        dedup_key=row["dedup_key"],
        recipient=recipient,
        template=row["template"],
        subject=row["subject"],
        body=row["body"],
        application_id=row["application_id"],
        attempts=row["attempts"],
        endpoint=endpoint,
        failing_since=row["failing_since"],
        probe=row["status"] == "dead",
    )
    return Claim(delivery, _cause(row["cause"]), row["more_due"])


async def mark_sent(conn: asyncpg.Connection, delivery: Delivery) -> bool:
    """Record the delivery (or the probe) as sent and forget its text; False if someone else already recorded its
    outcome."""
    updated = await conn.fetchval(
        """UPDATE delivery SET status = 'sent', sent_at = now(), last_attempt_at = now(), attempts = attempts + 1,
                               subject = NULL, body = NULL, last_error = NULL
           WHERE id = $1 AND status IN ('pending', 'dead') AND attempts = $2
           RETURNING true""",
        delivery.id,
        delivery.attempts,
    )
    return bool(updated)


async def mark_retry(conn: asyncpg.Connection, delivery: Delivery, reason: str, delay_seconds: float) -> bool:
    """Count a failed attempt (a probe's too) and make the delivery due again after `delay_seconds`."""
    updated = await conn.fetchval(
        """UPDATE delivery SET attempts = attempts + 1, last_error = $3, last_attempt_at = now(),
                               failing_since = coalesce(failing_since, now()),
                               next_attempt_at = now() + make_interval(secs => $4)
           WHERE id = $1 AND status IN ('pending', 'dead') AND attempts = $2
           RETURNING true""",
        delivery.id,
        delivery.attempts,
        reason,
        delay_seconds,
    )
    return bool(updated)


async def mark_given_up(conn: asyncpg.Connection, delivery: Delivery, reason: str, probe_seconds: float) -> bool:
    """Count the last failed attempt: a webhook delivery is dead-lettered (and probed after `probe_seconds`), any
    other has failed."""
    updated = await conn.fetchval(
        """UPDATE delivery SET attempts = attempts + 1, last_error = $3, last_attempt_at = now(),
                               failing_since = coalesce(failing_since, now()),
                               next_attempt_at = now() + make_interval(secs => $4),
                               status = CASE WHEN subscription_id IS NULL THEN 'failed' ELSE 'dead' END
           WHERE id = $1 AND status = 'pending' AND attempts = $2
           RETURNING true""",
        delivery.id,
        delivery.attempts,
        reason,
        probe_seconds,
    )
    return bool(updated)


async def mark_subscription_failing(conn: asyncpg.Connection, subscription_id: UUID) -> None:
    """Hold an active subscription's deliveries while it is probed (a cancelled one stays cancelled)."""
    await conn.execute(
        "UPDATE subscription SET status = 'failing', changed_at = now() WHERE id = $1 AND status = 'active'",
        subscription_id,
    )


async def resume_failing(conn: asyncpg.Connection, subscription_id: UUID) -> int | None:
    """Make a paused subscription active again (its receiver accepted a probe) and its other dead-lettered
    deliveries due; how many, or None if it was not paused."""
    paused = await conn.fetchval(
        """UPDATE subscription SET status = 'active', changed_at = now() WHERE id = $1 AND status = 'failing'
           RETURNING true""",
        subscription_id,
    )
    return await PgNotices(conn).resume_dead_deliveries(subscription_id) if paused else None


_SUBSCRIPTION = "id, url, event_types, status, owner, sensitive_fields"
"""The columns `_subscription` reads."""


def _subscription(row: asyncpg.Record) -> Subscription:
    return Subscription(
        row["id"],
        row["url"],
        tuple(row["event_types"]),
        SubscriptionStatus(row["status"]),
        row["owner"],
        row["sensitive_fields"],
    )


def _cause_json(meta: Metadata) -> dict[str, Any]:
    return {
        "id": str(meta.id),
        "source": meta.source,
        "type": meta.type,
        "time": meta.time.isoformat(),
        "subject": meta.subject,
        "correlation_id": str(meta.correlation_id),
        "causation_id": meta.causation_id and str(meta.causation_id),
        "traceparent": meta.traceparent,
    }


def _cause(data: dict[str, Any]) -> Metadata:
    return Metadata(
        id=UUID(data["id"]),
        source=data["source"],
        type=data["type"],
        time=datetime.fromisoformat(data["time"]),
        subject=data["subject"],
        correlation_id=UUID(data["correlation_id"]),
        causation_id=UUID(data["causation_id"]) if data["causation_id"] else None,
        traceparent=data["traceparent"],
    )
