"""The access audit: every API read or change of a citizen's personal data, recorded where it cannot be skipped.

A route records an `Access` in its unit of work: a row of `access_audit` (queryable by auditors) and the same record
on the service's audit topic through the outbox (`contracts.audit`), so a change and its audit record commit
together, and a read is recorded (committed) before its answer leaves. Objects are named pseudonymously; the
caller by the identity provider's id. `router` gives auditors `GET /v1/audit/access`, as JSON or as CEF lines for a
SIEM.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from contracts.audit import BY_SERVICE, AccessAction, AccessOutcome, AccessRecorded
from jobbro import pages
from jobbro.access import requires
from jobbro.principal import Principal, Role
from jobbro.uow import UnitOfWork

if TYPE_CHECKING:
    from jobbro.runtime import Runtime

MAX_QUERIED = 1000
"""Records one query answers at most (page by `until`: records come newest first)."""
_COLUMNS = (
    "access_id, at, actor, roles, municipality, purpose, action, object_kind, object_ref, citizen_refs, outcome, route"
)
_SEVERITY = {AccessOutcome.GRANTED: 3, AccessOutcome.NOT_FOUND: 5, AccessOutcome.REFUSED: 7}


@dataclass(frozen=True)
class Caller:
    """Who accessed: the identity provider's id, the roles, the municipality a caseworker or manager acts for."""

    subject: str
    roles: tuple[str, ...]
    municipality: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Caller:
        return cls(principal.subject, tuple(sorted(principal.roles)), principal.municipality)


@dataclass(frozen=True)
class Access:
    """What was accessed, why, and how it ended; `route` is the method and path template, never the path."""

    route: str
    purpose: str
    object_kind: str
    action: AccessAction = AccessAction.READ
    object_ref: str | None = None
    citizen_refs: tuple[str, ...] = ()
    outcome: AccessOutcome = AccessOutcome.GRANTED


async def record(uow: UnitOfWork, service: str, caller: Caller, access: Access) -> AccessRecorded:
    """Record `access` in `uow`'s transaction: the queryable row and the event on the service's audit topic."""
    event = BY_SERVICE[service](
        access_id=uuid4(),
        at=datetime.now(UTC),
        actor=caller.subject,
        roles=caller.roles,
        municipality=caller.municipality,
        purpose=access.purpose,
        action=access.action,
        object_kind=access.object_kind,
        object_ref=access.object_ref,
        citizen_refs=tuple(dict.fromkeys(access.citizen_refs)),
        outcome=access.outcome,
        route=access.route,
    )
    await uow.conn.execute(
        f"INSERT INTO access_audit ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        event.access_id,
        event.at,
        event.actor,
        list(event.roles),
        event.municipality,
        event.purpose,
        event.action.value,
        event.object_kind,
        event.object_ref,
        list(event.citizen_refs),
        event.outcome.value,
        event.route,
    )
    uow.publish(event)
    return event


def refusal_recorder(runtime: Runtime) -> Callable[[Principal, str], Awaitable[None]] | None:
    """What records a caller the role check refused (403); None for a process without an access audit."""
    service: str = runtime.settings.service
    if service not in BY_SERVICE:
        return None

    async def record_refusal(principal: Principal, route: str) -> None:
        """Who tried which route, in a transaction of its own; no object is named, since the route never ran (and
        its path may hold a CPR number)."""
        async with runtime.unit_of_work() as uow:
            refused = Access(route, "none: the role does not admit it", "route", outcome=AccessOutcome.REFUSED)
            await record(uow, service, Caller.of(principal), refused)
            await uow.commit()

    return record_refusal


async def query(
    conn: asyncpg.Connection,
    service: str,
    *,
    citizen_ref: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = MAX_QUERIED,
    after: tuple[datetime, UUID] | None = None,
) -> list[AccessRecorded]:
    """Recorded accesses, newest first: of one citizen (named in the object or the answer), by one actor, in a time;
    from just after the sort key `after` (a page's last), `limit` of them (one more than a page, to know of a next)."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM access_audit
             WHERE ($1::text IS NULL OR citizen_refs @> ARRAY[$1::text] OR object_ref = $1)
               AND ($2::text IS NULL OR actor = $2)
               AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
               AND ($6::timestamptz IS NULL OR (at, access_id) < ($6::timestamptz, $7::uuid))
             ORDER BY at DESC, access_id DESC LIMIT $5""",
        citizen_ref,
        actor,
        since,
        until,
        min(limit, MAX_QUERIED + 1),
        after and after[0],
        after and after[1],
    )
    model = BY_SERVICE[service]
    return [
        model(**{**dict(row), "roles": tuple(row["roles"]), "citizen_refs": tuple(row["citizen_refs"])}) for row in rows
    ]


def cef_line(service: str, event: AccessRecorded) -> str:
    """One record as an ArcSight Common Event Format line, the form SIEMs take (as NAV's services send theirs)."""
    header = [
        "CEF:0",
        "Jobbro",
        service,
        "1",
        f"access.{event.action.value}",
        f"{event.action.value} of {event.object_kind}",
        str(_SEVERITY[event.outcome]),
    ]
    extension: Sequence[tuple[str, str | None]] = (
        ("rt", str(int(event.at.timestamp() * 1000))),
        ("externalId", str(event.access_id)),
        ("suser", event.actor),
        ("spriv", ",".join(event.roles)),
        ("act", event.action.value),
        ("request", event.route),
        ("outcome", event.outcome.value),
        ("duid", event.object_ref),
        ("cs1Label", "purpose"),
        ("cs1", event.purpose),
        ("cs2Label", "municipality"),
        ("cs2", event.municipality),
        ("cs3Label", "objectKind"),
        ("cs3", event.object_kind),
        ("cs4Label", "citizenRefs"),
        ("cs4", ",".join(event.citizen_refs)),
    )
    fields = " ".join(f"{key}={_cef_value(value)}" for key, value in extension if value)
    return "|".join(map(_cef_header, header)) + "|" + fields


def _cef_header(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _cef_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("=", "\\=").replace("\r", "\\r").replace("\n", "\\n")


def routers(runtime: Runtime) -> tuple[APIRouter, ...]:
    """`GET /v1/audit/access` for auditors, on every service that keeps an access audit (not on the demo's
    back-office stand-in); the query itself is recorded too."""
    service: str = runtime.settings.service
    if service not in BY_SERVICE:
        return ()
    api = APIRouter(prefix="/v1/audit", tags=["audit"])

    @api.get("/access", response_model=None)
    async def accesses(
        request: Request,
        response: Response,
        citizen_ref: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_QUERIED)] = MAX_QUERIED,
        cursor: pages.Cursor = None,
        format: Literal["json", "cef"] = "json",  # noqa: A002 - the query parameter's name
        principal: Principal = requires(Role.AUDITOR),
    ) -> dict[str, Any] | PlainTextResponse:
        """Recorded accesses, newest first, a page at a time, as JSON or as CEF lines (`format=cef`) for a SIEM;
        `next_cursor` (JSON) and the `Link: rel="next"` header (both) lead to the next page."""
        after = pages.decode(cursor, _access_key) if cursor else None
        async with runtime.unit_of_work() as uow:
            rows = await query(
                uow.conn,
                service,
                citizen_ref=citizen_ref,
                actor=actor,
                since=since,
                until=until,
                limit=limit + 1,
                after=after,
            )
            found, next_cursor = pages.page(rows, limit, lambda event: (event.at.isoformat(), str(event.access_id)))
            await record(
                uow,
                service,
                Caller.of(principal),
                Access(
                    "GET /v1/audit/access",
                    "supervision",
                    "access_audit",
                    citizen_refs=_citizens(found, citizen_ref),
                ),
            )
            await uow.commit()
        pages.link_next(request, response, next_cursor)
        if format == "cef":
            lines = "".join(cef_line(service, event) + "\n" for event in found)
            return PlainTextResponse(lines, headers={"Link": response.headers["Link"]} if next_cursor else None)
        return {"accesses": [event.model_dump(mode="json") for event in found], "next_cursor": next_cursor}

    return (api,)


def _access_key(values: list[Any]) -> tuple[datetime, UUID]:
    """The sort key an access audit cursor holds: the last shown access's time and id."""
    at, access_id = values
    return datetime.fromisoformat(at), UUID(access_id)


def _citizens(found: Iterable[AccessRecorded], asked: str | None) -> tuple[str, ...]:
    """The citizen an auditor asked about; a query for all names none (its answer holds only references)."""
    return (asked,) if asked and found else ()
