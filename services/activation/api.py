"""HTTP read API: a citizen's plan, who is overdue, and statistics per municipality, presented as JSON.

The numbers come from `queries`; this module only parses the request and shapes the answer, so a dashboard
can present the same queries differently. Caseworkers and jobcenter managers read their own municipality only;
auditors read every municipality.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import APIRouter, FastAPI, Query, Request, Response

from contracts.audit import AccessOutcome
from jobbro import audit, pages
from jobbro.access import not_found, own_municipality, requires, sees_municipality
from jobbro.audit import Access, Caller
from jobbro.principal import Principal, Role
from jobbro.problems import Problem, Translate, code_of, install_refusals
from jobbro.runtime import Runtime
from jobbro.uow import UnitOfWork
from services.activation import queries
from services.activation.domain import PlanEntry, Timeliness
from services.activation.handlers import Context
from services.activation.queries import (
    CitizenNotFound,
    CitizenPlan,
    CitizenTimeliness,
    GroupStatistics,
    InvalidWindow,
    MunicipalityStatistics,
    Window,
)

T = TypeVar("T")

_DANISH_TIME = ZoneInfo("Europe/Copenhagen")


def _refusal(status: int, title: str) -> Translate:
    return lambda exc: Problem(status, code_of(exc), str(exc), title)


REFUSALS: Mapping[type[Exception], Translate] = {
    CitizenNotFound: _refusal(404, "Unknown citizen"),
    InvalidWindow: _refusal(422, "Invalid statistics window"),
}
"""Each read error and the problem+json status and title it becomes."""
_PLAN_ROUTE = "GET /v1/citizens/{citizen_ref}/plan"


def create_router(runtime: Runtime[Context]) -> APIRouter:
    router = APIRouter(tags=["activation"])
    rulebook = runtime.context.rulebook

    @router.get("/v1/citizens/{citizen_ref}/plan", response_model=None)
    async def plan(
        citizen_ref: str,
        on: date | None = None,
        principal: Principal = requires(Role.CASEWORKER, Role.AUDITOR),
    ) -> dict[str, Any]:
        """The citizen's plan entries and the timeliness of their offers on `on` (default: today); every asking is
        recorded in the access audit, a refused or unknown one too (an unknown path is not recorded: it may be a CPR
        number)."""
        day, access = on or _today(), Access(_PLAN_ROUTE, "plan_follow_up", "citizen_plan")
        async with runtime.unit_of_work() as uow:
            try:
                found = await queries.citizen_plan(uow.conn, citizen_ref, rulebook, day)
            except CitizenNotFound:
                await _audit(uow, principal, replace(access, outcome=AccessOutcome.NOT_FOUND))
                raise
            seen = sees_municipality(principal, found.municipality_code)
            outcome = AccessOutcome.GRANTED if seen else AccessOutcome.REFUSED
            await _audit(
                uow, principal, replace(access, object_ref=citizen_ref, citizen_refs=(citizen_ref,), outcome=outcome)
            )
        if not seen:
            raise not_found("citizen")
        return _plan(found)

    @router.get("/v1/overdue", response_model=None)
    async def overdue(
        request: Request,
        response: Response,
        on: date | None = None,
        municipality: str | None = None,
        limit: pages.Limit = pages.DEFAULT_LIMIT,
        cursor: pages.Cursor = None,
        principal: Principal = requires(Role.CASEWORKER, Role.MANAGER, Role.AUDITOR),
    ) -> dict[str, Any]:
        """Citizens without the offer due by `on` (default: today), longest overdue first, a page at a time
        (`next_cursor`, `Link: rel="next"`); a caseworker's or manager's own municipality (asking for another is
        refused), any or all for an auditor. Only the citizens on the page are recorded as read."""
        day, scope = on or _today(), own_municipality(principal, municipality)
        start = pages.decode(cursor, _overdue_key) if cursor else None
        async with runtime.unit_of_work() as uow:
            found = await queries.overdue(uow.conn, rulebook, day, scope)
            rest = pages.after(found, _overdue_order, start) if start else found
            shown, next_cursor = pages.page(rest, limit, _overdue_order)
            refs = tuple(citizen.citizen_ref for citizen in shown)
            await _audit(
                uow, principal, Access("GET /v1/overdue", "timeliness_follow_up", "overdue_list", citizen_refs=refs)
            )
        pages.link_next(request, response, next_cursor)
        return {"on": day, "citizens": [_citizen_timeliness(citizen) for citizen in shown], "next_cursor": next_cursor}

    @router.get("/v1/statistics", response_model=None)
    async def statistics(
        municipality: str | None = None,
        from_: Annotated[date | None, Query(alias="from")] = None,
        to: date | None = None,
        principal: Principal = requires(Role.MANAGER, Role.CASEWORKER, Role.AUDITOR),
    ) -> dict[str, Any]:
        """Placements and timeliness per municipality and target group, from `from` (default: a year back) to `to`
        (default: today); an auditor sees every municipality side by side unless one is asked for, a manager or
        caseworker only their own."""
        scope = own_municipality(principal, municipality)

        async def query(conn: asyncpg.Connection) -> tuple[Window, list[MunicipalityStatistics]]:
            window = Window.of(from_, to or _today())
            return window, await queries.statistics(conn, rulebook, window, scope)

        return await _read(runtime, query, _statistics)

    return router


def _overdue_order(citizen: CitizenTimeliness) -> tuple[int, str]:
    """The overdue list's order (longest overdue first, then by reference) as an ascending key."""
    return -citizen.timeliness.overdue_days, citizen.citizen_ref


def _overdue_key(values: list[Any]) -> tuple[int, str]:
    negated_days, citizen_ref = values
    if not isinstance(negated_days, int) or not isinstance(citizen_ref, str):
        raise ValueError("not an overdue list's cursor")
    return negated_days, citizen_ref


async def _read(
    runtime: Runtime, query: Callable[[asyncpg.Connection], Awaitable[T]], present: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    async with runtime.pool.acquire() as conn:
        return present(await query(conn))


def install_problems(app: FastAPI) -> None:
    """Answer every refusal of the reads as problem+json (`create_http_app` answers the rest)."""
    install_refusals(app, REFUSALS)


async def _audit(uow: UnitOfWork, principal: Principal, access: Access) -> None:
    """Record a read of citizens' data and commit it, before the answer leaves."""
    await audit.record(uow, "activation", Caller.of(principal), access)
    await uow.commit()


def _today() -> date:
    return datetime.now(_DANISH_TIME).date()


def _plan(plan: CitizenPlan) -> dict[str, Any]:
    return {
        "citizen_ref": plan.citizen_ref,
        "municipality_code": plan.municipality_code,
        "target_group": plan.target_group,
        "entries": [_entry(entry) for entry in plan.entries],
        "timeliness": _timeliness(plan.timeliness) if plan.timeliness else None,
    }


def _entry(entry: PlanEntry) -> dict[str, Any]:
    return {
        "activation_id": entry.activation_id,
        "application_id": entry.application_id,
        "status": entry.status,
        "scheme": entry.scheme,
        "period": {"start": entry.start, "end": entry.planned_end},
        "last_day": entry.last_day,
        "outcome": entry.outcome,
        "weekly_hours": [
            {"from_date": step.from_date, "hours_per_week": str(step.hours_per_week)} for step in entry.weekly_hours
        ],
        "employment_goal": entry.employment_goal,
        "employer": {"cvr": entry.employer_cvr, "production_unit": entry.production_unit, "name": entry.employer_name},
    }


def _timeliness(timeliness: Timeliness) -> dict[str, Any]:
    return {
        "deadline": timeliness.deadline,
        "rule_set_version": timeliness.rule_set_version,
        "continuous": timeliness.continuous,
        "due_on": timeliness.due_on,
        "met": timeliness.met,
        "next_due_on": timeliness.next_due_on,
        "overdue": timeliness.overdue,
        "overdue_days": timeliness.overdue_days,
    }


def _citizen_timeliness(citizen: CitizenTimeliness) -> dict[str, Any]:
    return {
        "citizen_ref": citizen.citizen_ref,
        "municipality_code": citizen.municipality_code,
        "target_group": citizen.target_group,
        **_timeliness(citizen.timeliness),
    }


def _statistics(found: tuple[Window, list[MunicipalityStatistics]]) -> dict[str, Any]:
    window, municipalities = found
    return {
        "from": window.start,
        "to": window.end,
        "municipalities": [
            {
                "municipality_code": stats.municipality_code,
                "total": _group(stats.total),
                "by_target_group": [
                    {"target_group": group, **_group(numbers)}
                    for group, numbers in sorted(stats.by_target_group.items(), key=lambda item: item[0] or "~")
                ],
            }
            for stats in municipalities
        ],
    }


def _group(stats: GroupStatistics) -> dict[str, Any]:
    average, share = stats.average_duration_days, stats.share_overdue
    return {
        "active_by_scheme": stats.active_by_scheme,
        "started_by_month": stats.started_by_month,
        "ended_by_month": stats.ended_by_month,
        "average_duration_days": None if average is None else round(average, 1),
        "citizens_with_deadline": stats.citizens_with_deadline,
        "overdue": stats.overdue,
        "share_overdue": None if share is None else round(share, 4),
    }
