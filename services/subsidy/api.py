"""The subsidy HTTP API: authenticate, parse, run one handler in a unit of work, and answer refusals as problems.

Every route declares its roles with the kit's `requires` (employers, signers, caseworkers, auditors send bearer
tokens); `_actor` turns the caller into the `Actor` the handlers record. Representatives answer through their
link's token instead. No problem ever repeats a token: refusals of links are fixed sentences.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response

from contracts.audit import AccessAction, AccessOutcome
from jobbro import audit, pages, tracing
from jobbro.access import AccessRefused, requires
from jobbro.principal import Principal
from jobbro.principal import Role as Access
from jobbro.problems import Problem, Translate, documented, install_refusals
from jobbro.runtime import Runtime
from jobbro.uow import UnitOfWork
from services.subsidy import handlers, store
from services.subsidy.domain import Actor, ChangeRefused, LinkUsed, Role, State, TransitionNotAllowed
from services.subsidy.handlers import Forbidden, NotFound, SignatureReplayed
from services.subsidy.links import LinkRefused
from services.subsidy.schemas import (
    ApplicationSummary,
    ApplicationView,
    CaseworkerDecision,
    CitizenNaming,
    DerivationView,
    EndOfPlacement,
    ErasureRequest,
    ErasureView,
    Extension,
    FinalConfirmation,
    ForRepresentative,
    HoursChange,
    RepresentativeAnswer,
    SignedApplication,
    WageReportIn,
    WageReportOut,
    Withdrawal,
)
from services.subsidy.signing import SignatureRefused

T = TypeVar("T")

_STATUS_BY_CODE = {"link_expired": 410, "link_invalid": 403, "link_missing": 401, "link_used": 409}


def _refusal(status: int) -> Translate:
    def translate(exc: Exception) -> Problem:
        code = getattr(exc, "code", "refused")
        extensions = {"current_state": exc.current.value} if isinstance(exc, TransitionNotAllowed) else {}
        return Problem(_STATUS_BY_CODE.get(code, status), code, str(exc), **extensions)

    return translate


def _signature_refused(exc: Exception) -> Problem:
    assert isinstance(exc, SignatureRefused)
    return Problem(422, f"signature_{exc.reason.value}", f"The signature was refused: {exc}.")


REFUSALS: Mapping[type[Exception], Translate] = {
    TransitionNotAllowed: _refusal(409),
    LinkUsed: _refusal(409),
    SignatureReplayed: _refusal(409),
    NotFound: _refusal(404),
    Forbidden: _refusal(403),
    ChangeRefused: _refusal(422),
    LinkRefused: _refusal(403),
    SignatureRefused: _signature_refused,
}
"""Every refusal the handlers raise, and the problem it becomes: the one table of status codes."""

_ACTING_AS: Mapping[Access, Role] = {
    Access.EMPLOYER_SIGNER: Role.EMPLOYER,
    Access.EMPLOYER: Role.EMPLOYER,
    Access.CASEWORKER: Role.CASEWORKER,
    Access.AUDITOR: Role.AUDITOR,
}
"""The capacity each admitted role acts in, as the application's history records it."""


def acting_as(*roles: Access) -> Any:
    """The route's roles, declared the kit's way; the route receives the caller as the `Actor` handlers need."""

    async def actor(principal: Principal = requires(*roles)) -> Actor:
        return _actor(principal, roles)

    return Depends(actor)


def _actor(principal: Principal, admitted: tuple[Access, ...]) -> Actor:
    """The one mapping of a principal to an actor: in the first admitted role it holds, bound to its tenant."""
    role = _ACTING_AS[next(found for found in admitted if principal.has(found))]
    if role is Role.EMPLOYER and principal.cvr is None:
        raise AccessRefused(403, "cvr_missing", "Your token names no CVR number to act for.")
    if role is Role.CASEWORKER and principal.municipality is None:
        raise AccessRefused(403, "municipality_missing", "Your token names no municipality.")
    cvr = principal.cvr if role is Role.EMPLOYER else None
    municipality = principal.municipality if role is Role.CASEWORKER else None
    return Actor(role, principal.subject, cvr=cvr, municipality=municipality)


def create_router(runtime: Runtime[handlers.Context]) -> APIRouter:
    """The `/v1` routes, bound to one running service."""
    ctx = runtime.context
    router = APIRouter(prefix="/v1", responses=documented(401, 403, 404, 409, 422))

    signer = acting_as(Access.EMPLOYER_SIGNER)
    reader = acting_as(Access.EMPLOYER, Access.CASEWORKER, Access.AUDITOR)
    caseworker = acting_as(Access.CASEWORKER)
    overseer = acting_as(Access.CASEWORKER, Access.AUDITOR)
    withdrawer = acting_as(Access.EMPLOYER, Access.CASEWORKER)

    async def in_unit_of_work(command: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        async with runtime.unit_of_work() as uow:
            result = await command(uow)
            await uow.commit()
        return result

    def in_case(
        route: str, application_id: UUID | Callable[[T], UUID], command: Callable[[UnitOfWork], Awaitable[T]]
    ) -> Callable[[UnitOfWork], Awaitable[T]]:
        """`command` changing an existing application, run in its case's trace (a submission starts the trace)."""
        if not isinstance(application_id, UUID):
            return command

        async def traced(uow: UnitOfWork) -> T:
            with tracing.case(route, await store.case_trace(uow.conn, application_id)):
                return await command(uow)

        return traced

    async def audited(
        route: str,
        application_id: UUID | Callable[[T], UUID],
        actor: Actor,
        command: Callable[[UnitOfWork], Awaitable[T]],
    ) -> T:
        """Run a change of an application and record it in the access audit in the same transaction; a refused or
        unknown application is recorded in a transaction of its own (the change's rolls back). A submission names
        its application by the function of the result that gives its id."""
        result, _ = await _audited(route, application_id, actor, command, answered=False)
        return result

    async def answered(
        route: str,
        application_id: UUID | Callable[[T], UUID],
        actor: Actor,
        command: Callable[[UnitOfWork], Awaitable[T]],
    ) -> tuple[T, ApplicationView]:
        """`audited`, and the application as the actor sees it after the change, read in the change's transaction
        (a transaction and a read fewer than reading it afterwards, and exactly the version this change made)."""
        result, found = await _audited(route, application_id, actor, command, answered=True)
        assert found is not None
        return result, found

    async def _audited(
        route: str,
        application_id: UUID | Callable[[T], UUID],
        actor: Actor,
        command: Callable[[UnitOfWork], Awaitable[T]],
        *,
        answered: bool,
    ) -> tuple[T, ApplicationView | None]:
        found = None
        try:
            async with runtime.unit_of_work() as uow:
                result = await in_case(route, application_id, command)(uow)
                changed = application_id if isinstance(application_id, UUID) else application_id(result)
                application = await uow.store.get(changed)
                refs = (application.citizen_ref,) if application and application.citizen_ref else ()
                await _audit(uow, actor, _change(route, actor, changed, refs))
                if answered:
                    found = await handlers.view_of(uow.store, application, actor)
                await uow.commit()
        except (NotFound, Forbidden) as refused:
            access = _change(route, actor, application_id if isinstance(application_id, UUID) else None, (), refused)
            await in_unit_of_work(lambda uow: _audit(uow, actor, access))
            raise
        return result, found

    async def step(
        route: str,
        application_id: UUID,
        body: Any,
        actor: Actor,
        handler: Any,
        condition: _Precondition,
    ) -> ApplicationView:
        """One step of an application by its handler, recorded as a change; answered with the application and its
        new `ETag`. With `If-Match`, only on the version it names (the row stays locked from check to change)."""

        async def change(uow: UnitOfWork) -> None:
            if condition.if_match is not None:
                current = await handlers.locked_version(uow.store, application_id, actor)
                if not _matches(condition.if_match, current):
                    raise Problem(412, "precondition_failed", _STALE, current_version=current)
            await handler(ctx, uow, application_id, body, actor)

        _, found = await answered(route, application_id, actor, change)
        return _tagged(found, condition.response)

    async def view(application_id: UUID, actor: Actor) -> ApplicationView:
        """The application as `actor` sees it; recorded as a read in the access audit, before it is answered."""
        try:
            async with runtime.unit_of_work() as uow:
                found = await handlers.view(uow.store, application_id, actor)
                refs = (found.citizen_ref,) if found.citizen_ref else ()
                await _audit(uow, actor, _read(_READ_ROUTE, actor, application_id, refs))
                await uow.commit()
        except (NotFound, Forbidden) as refused:
            access = _read(_READ_ROUTE, actor, application_id, (), refused)
            await in_unit_of_work(lambda uow: _audit(uow, actor, access))
            raise
        return found

    @router.post("/applications", status_code=201, tags=["employer"])
    async def submit_application(
        body: SignedApplication,
        response: Response,
        idempotency_key: Annotated[str, Header(min_length=1, max_length=200)],
        actor: Actor = signer,
    ) -> ApplicationView:
        """Submit a signed application naming a citizen, or for a position (`citizen` null).

        Replaying an `Idempotency-Key` returns the first application (200).
        """
        submission, found = await answered(
            "POST /v1/applications",
            lambda submission: submission.application.id,
            actor,
            lambda uow: handlers.submit_application(ctx, uow, body, idempotency_key, actor),
        )
        if submission.replayed:
            response.status_code = 200
        response.headers["Location"] = f"/v1/applications/{submission.application.id}"
        return found

    @router.get("/applications", tags=["employer", "caseworker", "auditor"])
    async def list_applications(
        request: Request,
        response: Response,
        state: Annotated[State | None, Query()] = None,
        change_pending: Annotated[
            bool, Query(description="Only running placements with a change waiting for a caseworker's decision.")
        ] = False,
        limit: pages.Limit = pages.DEFAULT_LIMIT,
        cursor: pages.Cursor = None,
        actor: Actor = reader,
    ) -> pages.Page[ApplicationSummary]:
        """An employer's own applications, those of a caseworker's municipality, or all (auditor), newest first, a
        page at a time: `next_cursor` (and the `Link: rel="next"` header) leads to the next page."""
        after = pages.decode(cursor, _listing_key) if cursor else None
        async with runtime.unit_of_work() as uow:
            found = await handlers.listing(uow.store, actor, state, limit + 1, after, change_pending)
            listed = replace(_read("GET /v1/applications", actor, None, ()), object_kind="applications")
            await _audit(uow, actor, listed)  # a summary names no citizen
            await uow.commit()
        items, next_cursor = pages.page(
            found, limit, lambda summary: (summary.submitted_at.isoformat(), str(summary.id))
        )
        pages.link_next(request, response, next_cursor)
        return pages.Page(items=items, next_cursor=next_cursor)

    @router.get("/applications/{application_id}", tags=["employer", "caseworker", "auditor"])
    async def get_application(application_id: UUID, response: Response, actor: Actor = reader) -> ApplicationView:
        """State, terms, decision with every rule's result, and history; its `ETag` is its version."""
        return _tagged(await view(application_id, actor), response)

    @router.get("/applications/{application_id}/derivation", tags=["caseworker", "auditor"])
    async def get_derivation(application_id: UUID, actor: Actor = overseer) -> DerivationView:
        """How the decision came about: each rule's version, legal reference and outcome, and every fact it read
        with its source and the event it came from (a caseworker: their municipality's applications). The facts
        include benefits' assessment of the citizen: the read is recorded in the access audit."""
        route = f"GET {_APPLICATION}/derivation"
        try:
            async with runtime.unit_of_work() as uow:
                found = await handlers.derivation(uow.store, application_id, actor)
                application = await uow.store.get(application_id)
                refs = (application.citizen_ref,) if application and application.citizen_ref else ()
                await _audit(uow, actor, replace(_read(route, actor, application_id, refs), object_kind="derivation"))
                await uow.commit()
        except (NotFound, Forbidden) as refused:
            access = replace(_read(route, actor, application_id, (), refused), object_kind="derivation")
            await in_unit_of_work(lambda uow: _audit(uow, actor, access))
            raise
        return found

    @router.post("/applications/{application_id}/caseworker-decision", tags=["caseworker"], responses=_IF_MATCH)
    async def decide(
        application_id: UUID,
        body: CaseworkerDecision,
        actor: Actor = caseworker,
        condition: _Precondition = _CONDITIONAL,
    ) -> ApplicationView:
        """Approve or reject a referred application or position, with reasons."""
        return await step(
            f"POST {_APPLICATION}/caseworker-decision",
            application_id,
            body,
            actor,
            handlers.decide_as_caseworker,
            condition,
        )

    @router.post("/applications/{application_id}/citizen", tags=["employer"], responses=_IF_MATCH)
    async def name_citizen(
        application_id: UUID, body: CitizenNaming, actor: Actor = signer, condition: _Precondition = _CONDITIONAL
    ) -> ApplicationView:
        """Name the citizen, with their consent and a signature, for an approved position: then it is decided."""
        return await step(f"POST {_APPLICATION}/citizen", application_id, body, actor, handlers.name_citizen, condition)

    @router.post("/applications/{application_id}/confirmation", tags=["employer"], responses=_IF_MATCH)
    async def confirm(
        application_id: UUID, body: FinalConfirmation, actor: Actor = signer, condition: _Precondition = _CONDITIONAL
    ) -> ApplicationView:
        """The employer's signed final approval of an approved application: the placement may start."""
        return await step(f"POST {_APPLICATION}/confirmation", application_id, body, actor, handlers.confirm, condition)

    @router.post("/applications/{application_id}/extension", tags=["employer"], responses=_IF_MATCH)
    async def extend(
        application_id: UUID, body: Extension, actor: Actor = signer, condition: _Precondition = _CONDITIONAL
    ) -> ApplicationView:
        """A later end date for a running placement."""
        return await step(f"POST {_APPLICATION}/extension", application_id, body, actor, handlers.extend, condition)

    @router.post("/applications/{application_id}/hours", tags=["employer"], responses=_IF_MATCH)
    async def change_hours(
        application_id: UUID, body: HoursChange, actor: Actor = signer, condition: _Precondition = _CONDITIONAL
    ) -> ApplicationView:
        """New weekly hours for a running placement, from the first step's date."""
        return await step(f"POST {_APPLICATION}/hours", application_id, body, actor, handlers.change_hours, condition)

    @router.post("/applications/{application_id}/end", tags=["employer"], responses=_IF_MATCH)
    async def end(
        application_id: UUID, body: EndOfPlacement, actor: Actor = signer, condition: _Precondition = _CONDITIONAL
    ) -> ApplicationView:
        """End a running placement, early (with a reason) or as planned."""
        return await step(f"POST {_APPLICATION}/end", application_id, body, actor, handlers.end, condition)

    @router.post("/applications/{application_id}/withdrawal", tags=["employer", "caseworker"], responses=_IF_MATCH)
    async def withdraw(
        application_id: UUID, body: Withdrawal, actor: Actor = withdrawer, condition: _Precondition = _CONDITIONAL
    ) -> ApplicationView:
        """Withdraw an application before the placement is confirmed."""
        return await step(f"POST {_APPLICATION}/withdrawal", application_id, body, actor, handlers.withdraw, condition)

    @router.post("/applications/{application_id}/wage-reports", status_code=201, tags=["employer"])
    async def report_wages(application_id: UUID, body: WageReportIn, actor: Actor = signer) -> WageReportOut:
        """A month's paid hours, wage costs and sickness refunds of a wage-subsidy placement, in arrears."""
        return await audited(
            f"POST {_APPLICATION}/wage-reports",
            application_id,
            actor,
            lambda uow: handlers.report_wages(ctx, uow, application_id, body, actor),
        )

    @router.post("/erasures", status_code=201, tags=["operator"])
    async def erase_citizen(body: ErasureRequest, principal: Principal = requires(Access.OPERATOR)) -> ErasureView:
        """Erase a citizen's personal data kept here (the signed documents naming them) by destroying their data
        key, with the reason; their applications and decisions stay under `citizen_ref`. Recorded in the access audit
        with the erasure (by reference: the CPR number is in neither)."""
        async with runtime.unit_of_work() as uow:
            erased = await handlers.erase_citizen(ctx, uow, body, principal.subject)
            await audit.record(uow, "subsidy", audit.Caller.of(principal), _erasure(erased.citizen_ref))
            await uow.commit()
        return erased

    @router.get("/representative-approval", tags=["representative"])
    async def for_representative(
        token: Annotated[
            str | None,
            Query(max_length=4096, description="The link's token, as the mailed link carries it."),
        ] = None,
        x_approval_token: Annotated[
            str | None,
            Header(max_length=4096, description="The link's token, for clients that keep it out of the URL."),
        ] = None,
    ) -> ForRepresentative:
        """What the representative's link asks them to confirm; reading does not use the link up.

        The token comes in the `token` query parameter (the mailed link) or the `X-Approval-Token` header.
        """
        if token is None and x_approval_token is None:
            raise LinkRefused("link_missing")
        given = token or x_approval_token or ""
        return await by_link(
            "GET /v1/representative-approval",
            given,
            AccessAction.READ,
            lambda uow: handlers.for_representative(ctx, uow.store, given),
        )

    @router.post("/representative-approval", tags=["representative"])
    async def answer_as_representative(body: RepresentativeAnswer) -> ForRepresentative:
        """Approve or decline through the link's token; the link works once and expires."""
        case = handlers.representative_case(ctx, body.token)
        await by_link(
            "POST /v1/representative-approval",
            body.token,
            AccessAction.CHANGE,
            in_case(
                "POST /v1/representative-approval", case, lambda uow: handlers.answer_as_representative(ctx, uow, body)
            ),
        )
        async with runtime.unit_of_work() as uow:
            return await handlers.for_representative(ctx, uow.store, body.token)

    async def by_link(route: str, token: str, action: AccessAction, command: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run what the representative's link asks for, recorded in the access audit in the same transaction, with
        the link (its request id) as the actor and the application as the object; a refusal is recorded in a
        transaction of its own. A token that is no unexpired link of this service names nobody: it is refused
        unrecorded."""
        link = ctx.links.read(token, ctx.clock())
        caller = audit.Caller(f"representative-link:{link.request_id}", (Role.REPRESENTATIVE.value,))
        try:
            async with runtime.unit_of_work() as uow:
                result = await command(uow)
                application = await uow.store.get(link.application_id)
                refs = (application.citizen_ref,) if application and application.citizen_ref else ()
                await audit.record(uow, "subsidy", caller, _by_link(route, action, link.application_id, refs))
                await uow.commit()
        except (NotFound, ChangeRefused, LinkUsed, TransitionNotAllowed) as refused:
            access = _by_link(route, action, link.application_id, (), refused)
            await in_unit_of_work(lambda uow: audit.record(uow, "subsidy", caller, access))
            raise
        return result

    return router


_APPLICATION = "/v1/applications/{application_id}"
_IF_MATCH = documented(412)
"""A step taken with a stale `If-Match` is refused."""
_STALE = "The application changed since you read it; read it again and decide on what it is now."
IfMatch = Annotated[
    str | None,
    Header(
        max_length=200,
        description="The `ETag` of the application as read: a change to a version since replaced is refused with "
        "412 `precondition_failed`. Optional: without it the change is made to the current version.",
    ),
]


@dataclass(frozen=True)
class _Precondition:
    """A step's `If-Match` (None: any version will do) and the response its new `ETag` goes on."""

    if_match: str | None
    response: Response


async def _precondition(response: Response, if_match: IfMatch = None) -> _Precondition:
    return _Precondition(if_match, response)


_CONDITIONAL = Depends(_precondition)


def _matches(if_match: str, version: int) -> bool:
    """Whether an `If-Match` header names this version (RFC 9110: a list of entity tags, or `*`)."""
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    return "*" in tags or _etag(version) in tags


def _etag(version: int) -> str:
    return f'"{version}"'


def _tagged(found: ApplicationView, response: Response) -> ApplicationView:
    response.headers["ETag"] = _etag(found.version)
    return found


_READ_ROUTE = f"GET {_APPLICATION}"
_PURPOSE = {Role.EMPLOYER: "employer_application", Role.CASEWORKER: "case_handling", Role.AUDITOR: "supervision"}
"""Why each capacity processes an application's personal data, as the access audit records it."""


def _listing_key(values: list[Any]) -> tuple[datetime, UUID]:
    """The sort key a cursor of the application list holds: when the last one shown was submitted, and its id."""
    submitted_at, application_id = values
    return datetime.fromisoformat(submitted_at), UUID(application_id)


def _read(
    route: str, actor: Actor, application_id: UUID | None, refs: tuple[str, ...], refused: Exception | None = None
) -> audit.Access:
    """A read of one application (or a list, `application_id` None) in the access audit."""
    return audit.Access(
        route,
        _PURPOSE[actor.role],
        "application",
        object_ref=str(application_id) if application_id else None,
        citizen_refs=refs,
        outcome=_outcome(refused),
    )


def _change(
    route: str, actor: Actor, application_id: UUID | None, refs: tuple[str, ...], refused: Exception | None = None
) -> audit.Access:
    return replace(_read(route, actor, application_id, refs, refused), action=AccessAction.CHANGE)


def _by_link(
    route: str, action: AccessAction, application_id: UUID, refs: tuple[str, ...], refused: Exception | None = None
) -> audit.Access:
    """The representative's access through their mailed link, in the access audit."""
    return audit.Access(
        route,
        "representative_approval",
        "application",
        action,
        object_ref=str(application_id),
        citizen_refs=refs,
        outcome=_outcome(refused),
    )


def _erasure(ref: str) -> audit.Access:
    """An operator's erasure of a citizen in the access audit: a change, named by the citizen's reference."""
    return audit.Access(
        "POST /v1/erasures", "erasure", "citizen", AccessAction.CHANGE, object_ref=ref, citizen_refs=(ref,)
    )


def _outcome(refused: Exception | None) -> AccessOutcome:
    if refused is None:
        return AccessOutcome.GRANTED
    return AccessOutcome.NOT_FOUND if isinstance(refused, NotFound) else AccessOutcome.REFUSED


async def _audit(uow: UnitOfWork, actor: Actor, access: audit.Access) -> None:
    """Record `access` by `actor` in `uow`'s transaction."""
    caller = audit.Caller(actor.subject, (actor.role.value,), actor.municipality)
    await audit.record(uow, "subsidy", caller, access)


def install_problems(app: FastAPI) -> None:
    """Answer every refusal of the handlers as problem+json (`create_http_app` answers the rest)."""
    install_refusals(app, REFUSALS)
